"""Booking a seat, the waiting list, cancelling: capacity holds under concurrency.

Every change to a session's seats first locks the session row (``SELECT ... FOR
UPDATE`` on PostgreSQL; SQLite has one writer at a time), so counting the seats and
taking one happen as one step. A learner holds at most one live booking per session
(a partial unique index backs this up).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.extensions import db
from lms.practicals import policy, records, rules, statements
from lms.practicals.errors import PracticalError
from lms.practicals.models import Booking, PracticalSession

DEFAULT_BOOKING_CLOSES_HOURS = 24


def lock(session: PracticalSession) -> PracticalSession:
    """Lock the session row for the rest of the transaction and reload it."""
    return db.session.scalars(
        sa.select(PracticalSession)
        .where(PracticalSession.id == session.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def booking_closes_at(session: PracticalSession) -> datetime:
    """When booking closes: the session's own delay before the start, else the default
    (``PRACTICALS_BOOKING_CLOSES_HOURS``, 24 hours)."""
    hours = session.booking_closes_hours
    if hours is None:
        hours = current_app.config.get(
            "PRACTICALS_BOOKING_CLOSES_HOURS", DEFAULT_BOOKING_CLOSES_HOURS
        )
    return session.starts_at - timedelta(hours=int(hours))


def is_open(session: PracticalSession, now: datetime) -> bool:
    return not session.is_cancelled and now < booking_closes_at(session)


def seats_taken(session: PracticalSession) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(Booking.id)).where(
            Booking.session_id == session.id, Booking.state == "booked"
        )
    )


def live_booking(session: PracticalSession, learner) -> Booking | None:
    """The learner's booking of the session that is not cancelled, or None."""
    return db.session.scalar(
        sa.select(Booking).where(
            Booking.session_id == session.id,
            Booking.learner_id == learner.id,
            Booking.state != "cancelled",
        )
    )


def evaluation_for(session: PracticalSession, learner) -> rules.Evaluation:
    """The learner's eligibility for the session, at its start, waivers included."""
    learner_records = records.for_type(records.learner_records(learner), learner, session.type_id)
    rule = rules.rule_from_data(session.practical_type.prerequisites)
    return rules.evaluate(rule, learner_records, session.starts_at)


def book(session: PracticalSession, learner, now: datetime) -> Booking:
    """Give ``learner`` a seat, or a place on the waiting list when the session is full.

    Raises ``PermissionError`` when the learner may not book this organisation's
    sessions, and ``PracticalError`` when the session is cancelled, booking has closed,
    the learner does not meet the prerequisites, or already holds a booking.
    """
    if not policy.can_book(learner, session):
        raise PermissionError("not a learner who may book this session")
    session = lock(session)
    if session.is_cancelled:
        raise PracticalError(_l("This session has been cancelled."))
    if not is_open(session, now):
        raise PracticalError(_l("Booking for this session has closed."))
    if not evaluation_for(session, learner).eligible:
        raise PracticalError(_l("You do not meet the prerequisites of this session yet."))
    if live_booking(session, learner) is not None:
        raise PracticalError(_l("You have already booked this session."))
    last = db.session.scalar(
        sa.select(sa.func.max(Booking.position)).where(Booking.session_id == session.id)
    )
    state = "booked" if seats_taken(session) < session.capacity else "waiting"
    booking = Booking(
        session=session, learner=learner, state=state, position=(last or 0) + 1, created_at=now
    )
    db.session.add(booking)
    db.session.flush()
    if state == "booked":
        statements.record("practical.registered", booking, at=now)
    _audit("practical.booking.created", booking, learner, state=state)
    return booking


def cancel(booking: Booking, by, now: datetime) -> Booking:
    """Cancel the learner's own booking (or waiting-list place) before the session starts;
    a freed seat goes to the first on the waiting list.

    Raises ``PermissionError`` when ``by`` is not the booking's learner and
    ``PracticalError`` when it is already cancelled or the session has started.
    """
    if by.id != booking.learner_id:
        raise PermissionError("not the learner's own booking")
    session = lock(booking.session)
    db.session.refresh(booking)
    if booking.state == "cancelled":
        raise PracticalError(_l("This booking is already cancelled."))
    if now >= session.starts_at:
        raise PracticalError(_l("The session has started; it can no longer be cancelled."))
    had_seat = booking.state == "booked"
    booking.state = "cancelled"
    booking.cancelled_at = now
    booking.cancelled_by_id = by.id
    db.session.flush()
    if had_seat:
        statements.record("practical.cancelled", booking, at=now)
    _audit("practical.booking.cancelled", booking, by, had_seat=had_seat)
    promote(session, now)
    return booking


def promote(session: PracticalSession, now: datetime) -> list[Booking]:
    """Give free seats to the waiting list, first come first served (session locked).

    Returns the bookings promoted; each learner sees a notice (``promoted_at``).
    """
    free = session.capacity - seats_taken(session)
    if free <= 0 or session.is_cancelled:
        return []
    waiting = db.session.scalars(
        sa.select(Booking)
        .where(Booking.session_id == session.id, Booking.state == "waiting")
        .order_by(Booking.position)
        .limit(free)
    ).all()
    for booking in waiting:
        booking.state = "booked"
        booking.promoted_at = now
        db.session.flush()
        statements.record("practical.registered", booking, at=now)
        _audit("practical.booking.promoted", booking, None)
    return list(waiting)


def _audit(action: str, booking: Booking, actor, **details) -> None:
    audit.record(
        action,
        actor=actor,
        organisation_id=booking.session.organisation_id,
        target_type="practical_booking",
        target_id=booking.id,
        details={
            "session": booking.session.public_id,
            "learner": booking.learner.public_id,
            **details,
        },
    )
