"""Password-reset links: asked for by e-mail when SMTP is configured, or made by an admin.

A link carries 256 random bits; the database keeps only their SHA-256, so a copy of the
database opens no account. A link works once, until it expires; using it sets the new
password and ends every log-in session and every other open link of its user.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_timedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from limits import parse

from lms import audit
from lms.auth import mail, policy, services
from lms.auth.models import PasswordResetLink, User
from lms.db_types import utcnow
from lms.extensions import db, limiter


class ResetRefused(services.AccountError):
    """The link is unknown, used, expired or its account closed; nothing changed."""

    def __init__(self):
        super().__init__(
            _l(
                "This link to choose a new password is not valid any more: it was used, it "
                "expired, or the account is closed. Ask for a new one."
            )
        )


@dataclass(frozen=True)
class IssuedLink:
    """A new link: its address (shown or sent once, never stored) and end of validity."""

    url: str
    expires_at: datetime
    lifetime: timedelta


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def public_url(endpoint: str, **values: str) -> str:
    """The address of a page for an e-mail: under ``PUBLIC_BASE_URL``, never under the
    request's Host header (which a visitor chooses)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def link_url(token: str) -> str:
    """The public address of the reset page for ``token``."""
    return public_url("auth.reset_password", token=token)


def can_reset(user: User) -> bool:
    """Whether ``user``'s password may be reset (an active, not pseudonymised account)."""
    return user.active and not user.is_pseudonymised


def _issue(user: User, *, by: User | None, seconds: float) -> IssuedLink:
    token = secrets.token_urlsafe(32)
    now = utcnow()
    lifetime = timedelta(seconds=float(seconds))
    link = PasswordResetLink(
        user_id=user.id,
        token_hash=_digest(token),
        created_by_id=by.id if by is not None else None,
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(link)
    db.session.flush()
    return IssuedLink(link_url(token), link.expires_at, lifetime)


def within_allowance(rate: str, *identifiers: str) -> bool:
    """Count one use of ``rate`` (e.g. ``3 per hour``) for ``identifiers``; False past it.

    The counters live in the rate limiter's storage, shared by every web instance; with
    rate limiting switched off (``RATELIMIT_ENABLED``) there is no limit.
    """
    if not limiter.enabled:
        return True
    return limiter.limiter.hit(parse(rate), "accounts", *identifiers)


def _reset_message(user: User, link: IssuedLink) -> EmailMessage:
    config = current_app.config
    with force_locale(user.language or config["BABEL_DEFAULT_LOCALE"]):
        lines = [
            _("Hello %(name)s,", name=user.display_name),
            _(
                "Someone, probably you, asked to choose a new password for your account on "
                "%(platform)s. Open this link to choose it:",
                platform=config["PLATFORM_NAME"],
            ),
            link.url,
            _(
                "The link works once, within %(duration)s. Choosing a new password logs your "
                "account out everywhere.",
                duration=format_timedelta(link.lifetime, threshold=1.0),
            ),
            _("If you did not ask for it, ignore this message: your password stays as it is."),
        ]
        subject = _("[%(platform)s] Choose a new password", platform=config["PLATFORM_NAME"])
    return mail.compose(user.email, subject, "\n\n".join(lines))


def request_by_email(email: str) -> EmailMessage | None:
    """A person asks for a reset link by e-mail address.

    Returns the message to send after the commit, or None: no such active account, or
    its allowance of reset e-mails (``RESET_LINK_EMAIL_LIMIT``) is used up. The caller
    answers the same in every case, so nobody learns whether an account exists.
    """
    user = services.find_user_by_email(email)
    if user is None or not can_reset(user) or not mail.is_configured():
        return None
    if not within_allowance(current_app.config["RESET_LINK_EMAIL_LIMIT"], "reset", user.public_id):
        return None
    link = _issue(user, by=None, seconds=current_app.config["RESET_LINK_SECONDS"])
    audit.record(
        "auth.password_reset.requested",
        actor=None,
        actor_label="anonymous",
        organisation_id=user.organisation_id,
        target_type="user",
        target_id=user.public_id,
        details={"expires_at": link.expires_at.isoformat()},
    )
    return _reset_message(user, link)


def _check_admin(user: User, by: User) -> None:
    if not policy.can_manage_user(by, user):
        raise PermissionError("not an administrator of this account")
    if not can_reset(user):
        raise services.AccountError(
            _l("This account is closed: reactivate it before resetting its password.")
        )


def create_link(user: User, *, by: User) -> IssuedLink:
    """An admin makes a reset link to hand to ``user`` (valid ``RESET_LINK_ADMIN_SECONDS``).

    Raises ``PermissionError`` when ``by`` does not manage ``user`` and ``AccountError``
    when the account is closed. Audited; the link itself is never stored.
    """
    _check_admin(user, by)
    link = _issue(user, by=by, seconds=current_app.config["RESET_LINK_ADMIN_SECONDS"])
    _audit_admin_link(user, by, link, emailed=False)
    return link


def email_link(user: User, *, by: User) -> EmailMessage:
    """An admin has a reset link e-mailed to ``user``; returns the message to send after
    the commit. Raises like ``create_link``, and ``AccountError`` without SMTP."""
    _check_admin(user, by)
    if not mail.is_configured():
        raise services.AccountError(_l("This service has no e-mail server configured."))
    link = _issue(user, by=by, seconds=current_app.config["RESET_LINK_SECONDS"])
    _audit_admin_link(user, by, link, emailed=True)
    return _reset_message(user, link)


def _audit_admin_link(user: User, by: User, link: IssuedLink, *, emailed: bool) -> None:
    audit.record(
        "user.password_reset_link.created",
        actor=by,
        organisation_id=user.organisation_id,
        target_type="user",
        target_id=user.public_id,
        details={"expires_at": link.expires_at.isoformat(), "emailed": emailed},
    )


def find_usable(token: str) -> PasswordResetLink | None:
    """The open link for ``token`` whose account can still be reset, or None."""
    link = db.session.scalar(
        sa.select(PasswordResetLink).where(PasswordResetLink.token_hash == _digest(token))
    )
    if link is None or not link.is_usable(utcnow()) or not can_reset(link.user):
        return None
    return link


def reset_password(token: str, new_password: str) -> User:
    """Use the link of ``token`` to set ``new_password``; return its user.

    The link is claimed by one conditional UPDATE, so two submissions of the same link
    (a double click, two tabs) cannot both use it. Every session and every other open
    link of the user ends. Raises ``ResetRefused``.
    """
    link = find_usable(token)
    if link is None:
        raise ResetRefused()
    now = utcnow()
    claimed = db.session.execute(
        sa.update(PasswordResetLink)
        .where(
            PasswordResetLink.id == link.id,
            PasswordResetLink.used_at.is_(None),
            PasswordResetLink.revoked_at.is_(None),
            PasswordResetLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise ResetRefused()
    user = link.user
    services.set_password(user, new_password)
    audit.record(
        "user.password_reset",
        actor=user,
        target_type="user",
        target_id=user.public_id,
        details={"link_made_by": "admin" if link.created_by_id else "e-mail request"},
    )
    return user
