"""What the practicals pages show: offers to a learner, staff lists, a session's roster."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, joinedload

from lms.auth.models import User
from lms.extensions import db
from lms.practicals import booking, policy, records, rules, running
from lms.practicals.models import Attendance, Booking, PracticalSession, PracticalType, SignOff


@dataclass
class SessionOffer:
    session: PracticalSession
    evaluation: rules.Evaluation
    #: The learner's live booking (booked or waiting), or None.
    booking: Booking | None
    seats_left: int
    waiting: int
    is_open: bool


@dataclass
class TypeOffer:
    practical_type: PracticalType
    #: At the first upcoming session (or now when none is scheduled).
    evaluation: rules.Evaluation
    sessions: list[SessionOffer] = field(default_factory=list)


def seat_counts(session_ids) -> dict[int, dict[str, int]]:
    """Session id -> {"booked": n, "waiting": m}."""
    counts: dict[int, dict[str, int]] = {}
    rows = db.session.execute(
        sa.select(Booking.session_id, Booking.state, sa.func.count(Booking.id))
        .where(Booking.session_id.in_(list(session_ids)), Booking.state != "cancelled")
        .group_by(Booking.session_id, Booking.state)
    )
    for session_id, state, count in rows:
        counts.setdefault(session_id, {"booked": 0, "waiting": 0})[state] = count
    return counts


def _upcoming(query: sa.Select, now: datetime, *options) -> list[PracticalSession]:
    return list(
        db.session.scalars(
            query.where(PracticalSession.starts_at > now)
            .order_by(PracticalSession.starts_at)
            .options(*options)
        )
    )


def learner_offers(user: User, now: datetime) -> list[TypeOffer]:
    """Each practical type the learner may take (their role and category allow it), with
    its upcoming bookable sessions and the learner's eligibility at each."""
    base = records.learner_records(user)
    waivers = records.waived_keys_by_type(user.id)
    sessions = _upcoming(
        policy.bookable_sessions(user).where(PracticalSession.status == "scheduled"),
        now,
        joinedload(PracticalSession.trainer),
    )
    counts = seat_counts(s.id for s in sessions)
    mine = {
        b.session_id: b
        for b in db.session.scalars(
            sa.select(Booking).where(Booking.learner_id == user.id, Booking.state != "cancelled")
        )
    }
    offers = []
    for practical in db.session.scalars(sa.select(PracticalType).order_by(PracticalType.id)):
        rule = rules.rule_from_data(practical.prerequisites)
        learner_records = records.for_type(base, user, practical.id, waivers)
        if not rules.within_reach(rule, learner_records):
            continue
        of_type = [s for s in sessions if s.type_id == practical.id]
        at = of_type[0].starts_at if of_type else now
        offer = TypeOffer(practical, rules.evaluate(rule, learner_records, at))
        for session in of_type:
            count = counts.get(session.id, {"booked": 0, "waiting": 0})
            offer.sessions.append(
                SessionOffer(
                    session=session,
                    evaluation=rules.evaluate(rule, learner_records, session.starts_at),
                    booking=mine.get(session.id),
                    seats_left=max(session.capacity - count["booked"], 0),
                    waiting=count["waiting"],
                    is_open=booking.is_open(session, now),
                )
            )
        offers.append(offer)
    return offers


def my_bookings(user: User, now: datetime) -> list[Booking]:
    """The learner's live bookings of sessions not yet over, soonest first."""
    return list(
        db.session.scalars(
            sa.select(Booking)
            .join(PracticalSession, Booking.session_id == PracticalSession.id)
            .where(Booking.learner_id == user.id, Booking.state != "cancelled")
            .where(PracticalSession.ends_at > now)
            .order_by(PracticalSession.starts_at)
            .options(contains_eager(Booking.session).joinedload(PracticalSession.practical_type))
        )
    )


def staff_sessions(user: User, now: datetime, *, past: bool = False) -> list[tuple]:
    """(session, booked, waiting) of the sessions ``user`` manages, upcoming or past."""
    query = policy.managed_sessions(user)
    if past:
        query = query.where(PracticalSession.starts_at <= now).order_by(
            PracticalSession.starts_at.desc()
        )
        sessions = list(db.session.scalars(query.limit(50)))
    else:
        sessions = _upcoming(query, now)
    counts = seat_counts(s.id for s in sessions)
    empty = {"booked": 0, "waiting": 0}
    return [
        (s, counts.get(s.id, empty)["booked"], counts.get(s.id, empty)["waiting"]) for s in sessions
    ]


@dataclass
class RosterLine:
    booking: Booking
    learner: User
    evaluation: rules.Evaluation
    attendance: Attendance | None
    #: Every sign-off of the learner at this session, oldest first (corrections included).
    sign_offs: list[SignOff]
    effective: SignOff | None
    waivers: list


def roster(session: PracticalSession) -> tuple[list[RosterLine], list[Booking]]:
    """The seated learners with their eligibility on the day, and the waiting list."""
    live = db.session.scalars(
        sa.select(Booking)
        .where(Booking.session_id == session.id, Booking.state != "cancelled")
        .order_by(Booking.position)
    ).all()
    seated = [b for b in live if b.state == "booked"]
    waiting = [b for b in live if b.state == "waiting"]
    learner_ids = [b.learner_id for b in live]
    attendance = {
        a.learner_id: a
        for a in db.session.scalars(
            sa.select(Attendance).where(Attendance.session_id == session.id)
        )
    }
    signed: dict[int, list[SignOff]] = {}
    for item in db.session.scalars(
        sa.select(SignOff).where(SignOff.session_id == session.id).order_by(SignOff.id)
    ):
        signed.setdefault(item.learner_id, []).append(item)
    waivers = running.waivers_for(learner_ids, session.type_id)
    lines = []
    for seat in seated:
        history = signed.get(seat.learner_id, [])
        corrected = {item.corrects_id for item in history}
        effective = next((i for i in reversed(history) if i.id not in corrected), None)
        lines.append(
            RosterLine(
                booking=seat,
                learner=seat.learner,
                evaluation=booking.evaluation_for(session, seat.learner),
                attendance=attendance.get(seat.learner_id),
                sign_offs=history,
                effective=effective,
                waivers=waivers.get(seat.learner_id, []),
            )
        )
    return lines, waiting
