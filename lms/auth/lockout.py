"""Log-in lock-out: after ``LOGIN_FAILURE_LIMIT`` failed log-ins with one e-mail address
from one client address, log-ins with it from there pause until the window ends.

The rate limiter counts the failures (shared by every web instance through its
storage); this module says when a failure locks, records the lock in the audit trail
and writes the notice e-mailed to the account holder. The page says the same for an
e-mail address that has no account, so a lock reveals nothing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.message import EmailMessage

from flask import current_app
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_limiter import RequestLimit

from lms import audit
from lms.auth import mail, resets, services
from lms.auth.models import User

#: Prefix of the limiter key of failed log-ins (the claimed e-mail and client address).
KEY_PREFIX = "login:"


def failure_key(email: str, address: str | None) -> str:
    """The limiter key that counts failed log-ins with ``email`` from ``address``."""
    return f"{KEY_PREFIX}{services.normalise_email(email)[:254]}:{address}"


def is_failure_limit(request_limit: RequestLimit) -> bool:
    """Whether ``request_limit`` is the allowance of failed log-ins (not the address's)."""
    return any(str(part).startswith(KEY_PREFIX) for part in request_limit.request_args)


def reopens_at(request_limit: RequestLimit) -> datetime:
    """When log-ins open again once the allowance of ``request_limit`` is used up."""
    reset, remaining = request_limit.window
    if remaining >= request_limit.limit.amount:
        # Nothing counted yet: the window starts with the failure being counted now.
        reset = time.time() + request_limit.limit.get_expiry()
    return datetime.fromtimestamp(reset + 1, UTC).replace(microsecond=0)


def locks_now(request_limit: RequestLimit) -> bool:
    """Whether the failure about to be counted uses up the allowance (the next log-in
    with this e-mail address from this client address is refused)."""
    return request_limit.remaining <= 1


def record_lock(email: str, *, until: datetime, address: str | None) -> EmailMessage | None:
    """Audit the lock of ``email`` and return the notice for the account holder, if the
    account exists, can log in, and had no notice within ``LOCKOUT_NOTICE_LIMIT``."""
    user = services.find_user_by_email(email)
    audit.record(
        "auth.login.locked",
        actor=user,
        actor_label=None if user else services.normalise_email(email)[:254],
        organisation_id=user.organisation_id if user else None,
        details={"until": until.isoformat(), "address": address or ""},
    )
    if user is None or not resets.can_reset(user) or not mail.is_configured():
        return None
    if not resets.within_allowance(
        current_app.config["LOCKOUT_NOTICE_LIMIT"], "lock-notice", user.public_id
    ):
        return None
    return _notice(user, until, address)


def _notice(user: User, until: datetime, address: str | None) -> EmailMessage:
    config = current_app.config
    with force_locale(user.language or config["BABEL_DEFAULT_LOCALE"]):
        lines = [
            _("Hello %(name)s,", name=user.display_name),
            _(
                "Several wrong passwords were just entered for your account on %(platform)s, "
                "from the network address %(address)s. Logging in with your e-mail address "
                "from there is paused until %(time)s (%(zone)s).",
                platform=config["PLATFORM_NAME"],
                address=address or "?",
                time=format_datetime(until, "short"),
                zone=config["BABEL_DEFAULT_TIMEZONE"],
            ),
            _(
                "If it was you, wait until then, or choose a new password here: %(url)s",
                url=resets.public_url("auth.forgot_password"),
            ),
            _(
                "If it was not you, your password kept your account safe. If you think "
                "someone knows it, change it."
            ),
        ]
        subject = _(
            "[%(platform)s] Log-ins to your account are paused", platform=config["PLATFORM_NAME"]
        )
    return mail.compose(user.email, subject, "\n\n".join(lines))
