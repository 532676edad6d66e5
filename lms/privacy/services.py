"""The person's copy of their data, and the pseudonymisation of a former learner.

Services flush; the request commits once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.auth import policy, services
from lms.auth.models import User
from lms.auth.signatures import require_signature
from lms.db_types import utcnow
from lms.errors import RuleError
from lms.extensions import db
from lms.practicals import booking as practical_bookings
from lms.practicals.models import Booking, PracticalSession
from lms.privacy import queries, statements

#: The domain of the placeholder addresses: ``.invalid`` never delivers (RFC 2606).
PLACEHOLDER_DOMAIN = "pseudonymised.invalid"
#: Stored as the password hash of a pseudonymised account: no password matches it.
UNUSABLE_PASSWORD = "!pseudonymised"  # noqa: S105 (a marker, not a password)


class PrivacyError(RuleError):
    """A pseudonymisation that the rules refuse."""


@dataclass(frozen=True)
class Export:
    filename: str
    content: bytes


def export(user: User) -> Export:
    """``user``'s own data as a JSON file (audited); see ``queries.personal_data``."""
    data = queries.personal_data(user)
    audit.record("privacy.data_exported", actor=user, target_type="user", target_id=user.public_id)
    content = json.dumps(data, ensure_ascii=False, indent=2, default=str).encode()
    return Export(f"personal-data-{utcnow():%Y-%m-%d}.json", content)


@dataclass(frozen=True)
class Preview:
    """What pseudonymising a learner would do, for the confirmation page."""

    upcoming_bookings: int
    statements: statements.Plan


@dataclass(frozen=True)
class Pseudonymised:
    """What pseudonymising a learner did."""

    bookings_cancelled: int
    statements: statements.Forgotten


def check_allowed(learner: User, by: User) -> None:
    """Raise ``PermissionError`` unless ``by`` administers ``learner``, and
    ``PrivacyError`` unless ``learner`` is a learner not yet pseudonymised."""
    if not policy.can_manage_user(by, learner):
        raise PermissionError("not an administrator of this account")
    if learner.role != "learner":
        raise PrivacyError(
            _l(
                "Only a learner's account can be pseudonymised: a trainer's or admin's name "
                "stays on the records they signed."
            )
        )
    if learner.is_pseudonymised:
        raise PrivacyError(_l("This account is already pseudonymised."))


def _upcoming_bookings(learner: User, now: datetime) -> list[Booking]:
    return list(
        db.session.scalars(
            sa.select(Booking)
            .join(PracticalSession, PracticalSession.id == Booking.session_id)
            .where(
                Booking.learner_id == learner.id,
                Booking.state != "cancelled",
                PracticalSession.starts_at > now,
            )
            .order_by(Booking.id)
        )
    )


def preview(learner: User, *, now: datetime | None = None) -> Preview:
    """Count what ``pseudonymise`` would cancel, keep and void (reads only)."""
    now = now or utcnow()
    return Preview(len(_upcoming_bookings(learner, now)), statements.plan(learner))


def pseudonym(learner: User) -> str:
    """The name a pseudonymised learner goes by, in the service's default language."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        return _("Former learner %(id)s", id=learner.public_id[:8])


def _erase_identity(learner: User, now: datetime) -> None:
    learner.display_name = pseudonym(learner)
    learner.email = f"{learner.public_id}@{PLACEHOLDER_DOMAIN}"
    learner.password_hash = UNUSABLE_PASSWORD
    learner.language = None
    learner.active = False
    learner.pseudonymised_at = now
    services.end_sessions(learner)
    db.session.flush()


def pseudonymise(
    learner: User, *, by: User, password: str | None, now: datetime | None = None
) -> Pseudonymised:
    """Erase a former learner's name and e-mail address; keep their training records.

    ``by`` (an admin of the learner's organisation, or of the centre) signs with their
    password. The account gets a pseudonym and a placeholder address that never
    delivers, no usable password, and is closed; its sessions and reset links end. Its
    upcoming practical bookings are cancelled (seats go to the waiting list). Results,
    qualifications, sign-offs, waivers, attendance and the audit trail stay, under the
    opaque ``public_id``. Statements: see ``lms.privacy.statements``. Irreversible.

    The audit record names the learner by ``public_id`` only. Raises ``PermissionError``,
    ``PrivacyError``, or ``SignatureRefused`` (audited; the caller commits it).
    """
    check_allowed(learner, by)
    require_signature(
        by, password, action="user.pseudonymise", target_type="user", target_id=learner.public_id
    )
    now = now or utcnow()
    _erase_identity(learner, now)
    cancelled = 0
    for booking in _upcoming_bookings(learner, now):
        # A learner's own cancellation: the practicals feature lets only them cancel.
        practical_bookings.cancel(booking, learner, now)
        cancelled += 1
    forgotten = statements.forget(learner, by=by, now=now)
    audit.record(
        "user.pseudonymised",
        actor=by,
        organisation_id=learner.organisation_id,
        target_type="user",
        target_id=learner.public_id,
        details={
            "bookings_cancelled": cancelled,
            "statements_rewritten": forgotten.rewritten,
            "statements_voided": forgotten.voided,
            "deliveries_withdrawn": forgotten.withdrawn,
            "lrs_holding_email": forgotten.holding_email,
        },
    )
    return Pseudonymised(cancelled, forgotten)
