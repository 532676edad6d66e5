"""Scheduling sessions: create, edit, cancel (trainers and admins of the organisation).

Services flush; the request commits once. Every change is audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.auth.models import Organisation, User
from lms.extensions import db
from lms.practicals import booking, policy, statements
from lms.practicals.errors import PracticalError
from lms.practicals.models import Booking, PracticalSession, PracticalType

#: Fields ``update_session`` may change.
EDITABLE = ("starts_at", "room", "trainer", "capacity", "notes", "booking_closes_hours")


def practical_types() -> list[PracticalType]:
    return list(db.session.scalars(sa.select(PracticalType).order_by(PracticalType.id)))


def trainers_of(organisation_ids) -> list[User]:
    """Active trainers of the organisations, by name (the choices of a session's trainer)."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.role == "trainer", User.active.is_(True))
            .where(User.organisation_id.in_(list(organisation_ids)))
            .order_by(User.display_name, User.id)
        )
    )


def _check_trainer(trainer: User, organisation: Organisation) -> None:
    if trainer.role != "trainer" or not trainer.active:
        raise PracticalError(_l("Choose a trainer."), "trainer")
    if trainer.organisation_id != organisation.id:
        raise PracticalError(
            _l("The trainer must belong to the session's organisation."), "trainer"
        )


def _check_start(starts_at: datetime, now: datetime) -> None:
    if starts_at.tzinfo is None:
        raise ValueError("starts_at must be an aware datetime")
    if starts_at <= now:
        raise PracticalError(_l("A session must start in the future."), "starts_at")


def create_session(
    *,
    practical_type: PracticalType,
    organisation: Organisation,
    starts_at: datetime,
    room: str,
    trainer: User,
    capacity: int | None,
    notes: str = "",
    booking_closes_hours: int | None = None,
    by: User,
    now: datetime,
) -> PracticalSession:
    """Schedule a session; it lasts the type's duration. Capacity defaults to the type's.

    Raises ``PermissionError`` when ``by`` may not schedule for ``organisation`` and
    ``PracticalError`` for a start in the past or a trainer of another organisation.
    """
    allowed = db.session.scalars(policy.session_organisations(by)).all()
    if not policy.can_create_sessions(by) or organisation not in allowed:
        raise PermissionError("may not schedule sessions for this organisation")
    _check_start(starts_at, now)
    _check_trainer(trainer, organisation)
    session = PracticalSession(
        practical_type=practical_type,
        organisation=organisation,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=practical_type.duration_minutes),
        room=room.strip(),
        trainer=trainer,
        capacity=capacity or practical_type.default_capacity,
        notes=(notes or "").strip(),
        booking_closes_hours=booking_closes_hours,
        created_by_id=by.id,
        created_at=now,
    )
    db.session.add(session)
    db.session.flush()
    _audit("practical.session.created", session, by, _describe(session))
    return session


def update_session(
    session: PracticalSession, changes: dict[str, Any], *, by: User, now: datetime
) -> dict[str, Any]:
    """Apply ``changes`` (keys of ``EDITABLE``); return what changed as (old, new).

    Capacity never goes below the seats taken; a larger one gives seats to the waiting
    list. Raises ``PermissionError`` or ``PracticalError`` like ``create_session``, and
    ``PracticalError`` for a cancelled or started session.
    """
    if not policy.can_manage(by, session):
        raise PermissionError("may not manage this session")
    session = booking.lock(session)
    if session.is_cancelled or now >= session.starts_at:
        raise PracticalError(_l("A cancelled or started session cannot be changed."))
    if "starts_at" in changes and changes["starts_at"] != session.starts_at:
        _check_start(changes["starts_at"], now)
    if "trainer" in changes:
        _check_trainer(changes["trainer"], session.organisation)
    if changes.get("capacity") is not None and changes["capacity"] < booking.seats_taken(session):
        raise PracticalError(
            _l("The capacity cannot be below the seats already booked."), "capacity"
        )
    before = _describe(session)
    for key in EDITABLE:
        if key in changes and (key != "capacity" or changes[key] is not None):
            setattr(session, key, changes[key])
    session.ends_at = session.starts_at + timedelta(minutes=session.practical_type.duration_minutes)
    db.session.flush()
    after = _describe(session)
    changed = {key: (before[key], after[key]) for key in after if before[key] != after[key]}
    if changed:
        _audit("practical.session.updated", session, by, {"changes": changed})
        booking.promote(session, now)
    return changed


def cancel_session(session: PracticalSession, *, by: User, now: datetime) -> int:
    """Cancel the session and every booking of it; return how many learners held a seat.

    Each of them gets a ``cancel`` statement. Raises ``PermissionError`` or
    ``PracticalError`` (already cancelled, or started).
    """
    if not policy.can_manage(by, session):
        raise PermissionError("may not manage this session")
    session = booking.lock(session)
    if session.is_cancelled:
        raise PracticalError(_l("This session has been cancelled."))
    if now >= session.starts_at:
        raise PracticalError(_l("A cancelled or started session cannot be changed."))
    session.status = "cancelled"
    session.cancelled_at = now
    live = db.session.scalars(
        sa.select(Booking).where(Booking.session_id == session.id, Booking.state != "cancelled")
    ).all()
    seats = 0
    for item in live:
        if item.state == "booked":
            seats += 1
        was = item.state
        item.state, item.cancelled_at, item.cancelled_by_id = "cancelled", now, by.id
        db.session.flush()
        if was == "booked":
            statements.record(
                "practical.cancelled", item, at=now, extensions={"reason": "session cancelled"}
            )
    _audit("practical.session.cancelled", session, by, {"bookings_cancelled": len(live)})
    return seats


def _describe(session: PracticalSession) -> dict[str, Any]:
    return {
        "type": session.type_id,
        "organisation": session.organisation_id,
        "starts_at": session.starts_at.isoformat(),
        "room": session.room,
        "trainer": session.trainer.public_id if session.trainer else None,
        "capacity": session.capacity,
        "notes": session.notes,
        "booking_closes_hours": session.booking_closes_hours,
    }


def _audit(action: str, session: PracticalSession, by: User, details: dict) -> None:
    audit.record(
        action,
        actor=by,
        organisation_id=session.organisation_id,
        target_type="practical_session",
        target_id=session.public_id,
        details=details,
    )
