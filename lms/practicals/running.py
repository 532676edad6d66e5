"""Running a session: check-in, signed sign-offs and signed waivers.

A signature is the signer re-entering their password, checked on the server; the
record keeps the signer, their printed name, the meaning of the signature and the UTC
time (EU GMP Annex 11 §14, 21 CFR 11.50). Signed records are never edited: a sign-off
is corrected by a new signed sign-off that names the one it replaces.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms import audit, xapi
from lms.auth.models import User
from lms.auth.signatures import SignatureRefused, signature_is_valid
from lms.extensions import db
from lms.practicals import booking, policy, records, rules, statements
from lms.practicals.errors import PracticalError
from lms.practicals.models import Attendance, Booking, PracticalSession, SignOff, Waiver

DEFAULT_CHECKIN_OPENS_HOURS = 2
MIN_REASON = 5


class SignatureError(SignatureRefused, PracticalError):
    """The re-entered password is not the signer's: nothing is signed."""


def verify_signature(
    signer: User, password: str, *, action: str, session: PracticalSession, learner: User
) -> None:
    """Check the signer's password; a failure is audited and raises ``SignatureError``."""
    if not signature_is_valid(
        signer,
        password,
        action=f"practical.{action}",
        target_type="practical_session",
        target_id=session.public_id,
        details={"learner": learner.public_id},
    ):
        raise SignatureError()


def checkin_opens_at(session: PracticalSession) -> datetime:
    hours = current_app.config.get("PRACTICALS_CHECKIN_OPENS_HOURS", DEFAULT_CHECKIN_OPENS_HOURS)
    return session.starts_at - timedelta(hours=int(hours))


def attendance_of(session: PracticalSession, learner: User) -> Attendance | None:
    return db.session.scalar(
        sa.select(Attendance).where(
            Attendance.session_id == session.id, Attendance.learner_id == learner.id
        )
    )


def _seat(session: PracticalSession, learner: User) -> Booking:
    held = booking.live_booking(session, learner)
    if held is None or held.state != "booked":
        raise PracticalError(_l("This learner holds no seat in this session."))
    return held


def _require_runner(session: PracticalSession, by: User) -> None:
    if not policy.can_run(by, session):
        raise PermissionError("not a trainer of the session's organisation")
    if session.is_cancelled:
        raise PracticalError(_l("This session has been cancelled."))


def check_in(session: PracticalSession, learner: User, *, by: User, now: datetime) -> Attendance:
    """Record that ``learner`` is present. The rule is evaluated again: a learner whose
    qualification expired since booking is refused (a trainer may waive the condition).

    Raises ``PermissionError`` or ``PracticalError`` (too early, no seat, already
    checked in, not eligible).
    """
    _require_runner(session, by)
    if now < checkin_opens_at(session):
        raise PracticalError(_l("Check-in opens shortly before the session starts."))
    seat = _seat(session, learner)
    if attendance_of(session, learner) is not None:
        raise PracticalError(_l("This learner is already checked in."))
    if not booking.evaluation_for(session, learner).eligible:
        raise PracticalError(_l("This learner does not meet the prerequisites on the day."))
    attendance = Attendance(
        session_id=session.id,
        learner_id=learner.id,
        booking_id=seat.id,
        checked_in_by_id=by.id,
        checked_in_at=now,
    )
    db.session.add(attendance)
    db.session.flush()
    statements.record("practical.attended", seat, at=now, instructor=by)
    _audit("practical.attendance.recorded", session, learner, by, {})
    return attendance


def effective_sign_off(session: PracticalSession, learner: User) -> SignOff | None:
    """The learner's sign-off at the session that no correction replaced, or None."""
    return db.session.scalar(
        records.effective_sign_offs().where(
            SignOff.session_id == session.id, SignOff.learner_id == learner.id
        )
    )


def sign_off(
    session: PracticalSession,
    learner: User,
    *,
    by: User,
    password: str,
    outcome: str,
    comments: str,
    corrects: SignOff | None = None,
    now: datetime,
) -> SignOff:
    """Sign the learner's pass or fail (``corrects``: the sign-off this one corrects).

    Raises ``PermissionError``; ``SignatureError`` for a wrong password;
    ``PracticalError`` when the learner was not checked in, is already signed off
    (correct it instead), or a correction gives no reason or corrects a replaced record.
    """
    _require_runner(session, by)
    verify_signature(by, password, action="sign_off", session=session, learner=learner)
    if outcome not in ("pass", "fail"):
        raise PracticalError(_l("Choose pass or fail."), "outcome")
    if attendance_of(session, learner) is None:
        raise PracticalError(_l("Check the learner in before signing off."))
    current = effective_sign_off(session, learner)
    comments = (comments or "").strip()
    if corrects is None and current is not None:
        raise PracticalError(_l("Already signed off: record a correction instead."))
    if corrects is not None:
        if current is None or current.id != corrects.id:
            raise PracticalError(_l("Only the sign-off in force can be corrected."))
        if len(comments) < MIN_REASON:
            raise PracticalError(_l("Give the reason for the correction."), "comments")
    record = SignOff(
        session_id=session.id,
        learner_id=learner.id,
        type_id=session.type_id,
        type_content_hash=session.practical_type.content_hash,
        outcome=outcome,
        comments=comments,
        corrects_id=corrects.id if corrects else None,
        signer_id=by.id,
        signer_name=by.display_name,
        meaning="performed-and-approved-by",
        signed_at=now,
    )
    db.session.add(record)
    db.session.flush()
    seat = _seat_for_record(session, learner)
    extensions = {"corrects": corrects.id} if corrects else None
    result = xapi.Result(success=outcome == "pass", completion=True, response=comments or None)
    kind = "practical.passed" if outcome == "pass" else "practical.failed"
    statements.record(kind, seat, at=now, instructor=by, result=result, extensions=extensions)
    details = {"sign_off": record.id, "outcome": outcome, "corrects": record.corrects_id}
    _audit("practical.sign_off.signed", session, learner, by, details)
    return record


def _seat_for_record(session: PracticalSession, learner: User) -> Booking:
    attendance = attendance_of(session, learner)
    return db.session.get(Booking, attendance.booking_id)


def waivable_keys(session: PracticalSession, learner: User) -> list[str]:
    """Keys of the conditions the learner misses for the session (what may be waived)."""
    return booking.evaluation_for(session, learner).missing_keys()


def grant_waiver(
    session: PracticalSession,
    learner: User,
    condition_key: str,
    *,
    by: User,
    password: str,
    reason: str,
    now: datetime,
) -> Waiver:
    """Waive one condition of the session's practical type for one learner, signed.

    The learner must hold a booking of the session. Raises ``PermissionError``,
    ``SignatureError``, or ``PracticalError`` (unknown or met condition, no reason).
    """
    _require_runner(session, by)
    verify_signature(by, password, action="waiver", session=session, learner=learner)
    if booking.live_booking(session, learner) is None:
        raise PracticalError(_l("This learner has not booked this session."))
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REASON:
        raise PracticalError(_l("Give the reason for the waiver."), "reason")
    rule = rules.rule_from_data(session.practical_type.prerequisites)
    if condition_key not in {condition.key for condition in rules.conditions(rule)}:
        raise PracticalError(_l("Choose a condition of this practical."), "condition")
    if condition_key not in waivable_keys(session, learner):
        raise PracticalError(_l("This condition is met or already waived."), "condition")
    waiver = Waiver(
        learner_id=learner.id,
        type_id=session.type_id,
        condition_key=condition_key,
        reason=reason,
        session_id=session.id,
        signer_id=by.id,
        signer_name=by.display_name,
        meaning="approved-by",
        signed_at=now,
    )
    db.session.add(waiver)
    db.session.flush()
    statements.record_waiver(learner, session.practical_type, condition_key, reason, by=by, at=now)
    details = {"waiver": waiver.id, "condition": condition_key, "reason": reason}
    _audit("practical.waiver.signed", session, learner, by, details)
    return waiver


def waivers_for(learner_ids, type_id: str) -> dict[int, list[Waiver]]:
    """Learner id -> the waivers they hold for the practical type."""
    rows = db.session.scalars(
        sa.select(Waiver)
        .where(Waiver.learner_id.in_(list(learner_ids)), Waiver.type_id == type_id)
        .order_by(Waiver.signed_at)
    )
    found: dict[int, list[Waiver]] = {}
    for waiver in rows:
        found.setdefault(waiver.learner_id, []).append(waiver)
    return found


def _audit(action, session: PracticalSession, learner: User, by: User, details: dict) -> None:
    audit.record(
        action,
        actor=by,
        organisation_id=session.organisation_id,
        target_type="practical_session",
        target_id=session.public_id,
        details={"learner": learner.public_id, **details},
    )
