"""Synthetic practical types, and their sessions over the period and the weeks ahead:
bookings and waiting lists, cancellations, attendance, signed sign-offs and waivers.

Who books is decided by the practicals feature's own rule engine
(``rules.evaluate`` against the qualifications the learners earned in the simulation),
in the order the sessions happen, so a sign-off earned at one session opens the next.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lms.demo import vocabulary
from lms.demo.catalog import SyntheticModule
from lms.demo.outbox import Statements
from lms.demo.people import Org, Person, new_uuid
from lms.demo.writer import Writer
from lms.practicals import rules
from lms.practicals.models import (
    Attendance,
    Booking,
    PracticalSession,
    PracticalType,
    PracticalTypeRevision,
    SignOff,
    Waiver,
)
from lms.xapi import events

BOOKING_CLOSES = timedelta(hours=24)
#: Learners a year of the centre whose session calendar the schedule follows.
FULL_SCALE = 6000
#: Chance that a trainer waives the one condition a candidate misses.
WAIVER_CHANCE = 0.004
FAIL_COMMENTS = (
    "Touched the outside of the sterile garment; practise the sequence again.",
    "Skipped a step of the procedure; repeat with the checklist.",
    "Did not verify the isolation before starting work.",
)


@dataclass
class SyntheticType:
    id: str
    title: dict[str, str]
    summary: dict[str, str]
    room_kind: str
    minutes: int
    capacity: int
    prerequisites: dict[str, Any]
    rule: Any = None
    #: Modules a learner must have passed (for finding candidates quickly).
    modules: list[str] = field(default_factory=list)

    @property
    def definition(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "room_kind": self.room_kind,
            "duration_minutes": self.minutes,
            "default_capacity": self.capacity,
            "prerequisites": self.prerequisites,
        }

    @property
    def content_hash(self) -> str:
        text = json.dumps(self.definition, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def plan_types(modules: list[SyntheticModule], taken: set[str]) -> list[SyntheticType]:
    """The practical types whose prerequisite modules exist among ``modules``."""
    intros = [m for m in modules if m.variant == "introduction"]
    by_family: dict[str, list[SyntheticModule]] = defaultdict(list)
    for module in sorted(intros, key=lambda m: -m.popularity):
        by_family[module.family].append(module)
    planned: list[SyntheticType] = []
    for type_id, en, fr, room_kind, minutes, capacity, families in vocabulary.PRACTICAL_TYPES:
        required = [by_family[f][0].id for f in families if by_family.get(f)]
        if not required and intros:
            required = [intros[0].id]
        if not required:
            continue
        unique, number = type_id, 2
        while unique in taken:
            unique, number = f"{type_id}-{number}", number + 1
        taken.add(unique)
        prerequisites = _rule(unique, required, planned)
        planned.append(
            SyntheticType(
                id=unique,
                title={"en": en, "fr": fr},
                summary={
                    "en": f"{en}, under a trainer's eye (demonstration content).",
                    "fr": f"{fr}, sous l'œil d'un formateur (contenu de démonstration).",
                },
                room_kind=room_kind,
                minutes=minutes,
                capacity=capacity,
                prerequisites=prerequisites,
                rule=rules.rule_from_data(prerequisites),
                modules=required,
            )
        )
    return planned


def _rule(type_id: str, modules: list[str], earlier: list[SyntheticType]) -> dict[str, Any]:
    conditions: list[dict[str, Any]] = [{"qualification_valid": {"module": m}} for m in modules]
    if type_id.startswith("loop-check"):
        passed = {"module_passed": {"module": modules[0], "min_score": 0.9, "within_months": 36}}
        return {"any_of": [conditions[0], passed]}
    if type_id.startswith("aseptic-filling") and earlier:
        signed = {"practical_signed_off": {"practical": earlier[0].id, "within_months": 12}}
        conditions = [signed, {"qualification_valid": {"module": modules[0], "min_score": 0.8}}]
    return {"all_of": conditions}


def write_types(writer: Writer, types: list[SyntheticType], loaded_at: datetime) -> None:
    writer.add(
        PracticalType.__table__,
        [
            {
                "id": t.id,
                "title": t.title,
                "summary": t.summary,
                "room_kind": t.room_kind,
                "duration_minutes": t.minutes,
                "default_capacity": t.capacity,
                "prerequisites": t.prerequisites,
                "content_hash": t.content_hash,
                "updated_at": loaded_at,
            }
            for t in types
        ],
    )
    writer.add(
        PracticalTypeRevision.__table__,
        [
            {
                "id": writer.id(PracticalTypeRevision.__table__),
                "type_id": t.id,
                "content_hash": t.content_hash,
                "definition": t.definition,
                "loaded_at": loaded_at,
            }
            for t in types
        ],
    )


@dataclass
class Tally:
    sessions: int = 0
    cancelled_sessions: int = 0
    bookings: Counter[str] = field(default_factory=Counter)
    attendances: int = 0
    sign_offs: Counter[str] = field(default_factory=Counter)
    waivers: int = 0


class Practicals:
    """Schedules sessions and lets the simulated learners book and attend them."""

    def __init__(
        self,
        rng: random.Random,
        writer: Writer,
        statements: Statements,
        orgs: list[Org],
        qualifications: dict[int, list[rules.QualificationRecord]],
        now: datetime,
    ) -> None:
        self.rng, self.writer, self.statements, self.now = rng, writer, statements, now
        self.orgs = orgs
        self.qualifications = qualifications
        self.learners = {p.id: p for org in orgs for p in org.learners}
        #: Module id -> learners with a qualification in it (the candidates of a rule).
        self.holders: dict[str, list[int]] = defaultdict(list)
        for learner_id, records in sorted(qualifications.items()):
            for module_id in {r.module_id for r in records}:
                self.holders[module_id].append(learner_id)
        self.signed_off: dict[int, dict[str, datetime]] = defaultdict(dict)
        #: (learner id, type id) -> keys of the conditions waived.
        self.waived: dict[tuple[int, str], set[str]] = defaultdict(set)
        #: (learner id, type id) -> when their live booking's session ends.
        self.busy: dict[tuple[int, str], datetime] = {}
        self.tally = Tally()

    def schedule(self, types: list[SyntheticType], start: datetime) -> None:
        """Sessions of every type from ``start`` to eight weeks ahead, run in date order;
        a large centre (6,000 learners a year) runs one of each type every week or so,
        a smaller one less often."""
        planned = []
        spacing = max(1.0, (FULL_SCALE / max(len(self.learners), 1)) ** 0.5)
        centre = next(org for org in self.orgs if org.kind == "centre")
        companies = sorted(
            (org for org in self.orgs if org.kind == "company" and org.trainers),
            key=lambda org: -len(org.learners),
        )
        for practical in types:
            moment = start + timedelta(days=self.rng.uniform(3, 14))
            while moment < self.now + timedelta(weeks=8):
                day = moment.replace(hour=self.rng.choice((7, 12)), minute=30, second=0)
                day = day.replace(microsecond=0)
                if day.weekday() >= 5:
                    day += timedelta(days=7 - day.weekday())
                host = centre if not companies or self.rng.random() < 0.8 else companies[0]
                planned.append((day, practical, host))
                moment += timedelta(days=self.rng.uniform(4, 12) * spacing)
        for day, practical, host in sorted(planned, key=lambda p: (p[0], p[1].id)):
            self._session(day, practical, host)

    def _session(self, starts: datetime, practical: SyntheticType, host: Org) -> None:
        trainer = self.rng.choice(host.trainers)
        created = min(starts - timedelta(days=self.rng.uniform(14, 45)), self.now)
        row = {
            "id": self.writer.id(PracticalSession.__table__),
            "public_id": new_uuid(self.rng),
            "type_id": practical.id,
            "organisation_id": host.id,
            "starts_at": starts,
            "ends_at": starts + timedelta(minutes=practical.minutes),
            "room": self.rng.choice(vocabulary.ROOMS[practical.room_kind]),
            "trainer_id": trainer.id,
            "capacity": max(2, practical.capacity + self.rng.choice((-2, 0, 0, 0, 2))),
            "notes": "",
            "status": "scheduled",
            "booking_closes_hours": None,
            "created_by_id": trainer.id,
            "created_at": created,
            "cancelled_at": None,
        }
        cancelled_at = starts - timedelta(days=self.rng.uniform(1, 6))
        if self.rng.random() < 0.03 and cancelled_at < self.now:
            row.update(status="cancelled", cancelled_at=cancelled_at)
        self.writer.add(PracticalSession.__table__, [row])
        self.tally.sessions += 1
        self.tally.cancelled_sessions += row["status"] == "cancelled"
        activity = _session_activity(row, practical)
        bookings = self._book(row, practical, host, trainer, activity)
        if row["status"] == "cancelled":
            self._cancel_all(row, bookings, trainer, practical, activity)
        self.tally.bookings.update(b["state"] for b in bookings)
        self.writer.add(
            Booking.__table__, [{k: v for k, v in b.items() if k != "learner"} for b in bookings]
        )
        if row["status"] != "cancelled" and starts < self.now:
            self._run(row, practical, trainer, bookings, activity)

    def _candidates(self, practical: SyntheticType, host: Org) -> list[Person]:
        ids = self.holders.get(practical.modules[0], [])
        people = [self.learners[i] for i in ids]
        if host.kind != "centre":
            people = [p for p in people if p.org.id == host.id]
        return people

    def _records(self, learner: Person, practical: SyntheticType) -> rules.LearnerRecords:
        return rules.LearnerRecords(
            qualifications=tuple(self.qualifications.get(learner.id, ())),
            signed_off=self.signed_off[learner.id],
            learner_category=learner.category,
            waived=frozenset(self.waived[(learner.id, practical.id)]),
        )

    def _book(self, session, practical, host, trainer, activity) -> list[dict]:
        """Bookings in arrival order (seats first, then the waiting list)."""
        starts, closes = session["starts_at"], session["starts_at"] - BOOKING_CLOSES
        opened = session["created_at"]
        wanted = math.ceil(session["capacity"] * self.rng.uniform(0.3, 1.5))
        candidates = self._candidates(practical, host)
        self.rng.shuffle(candidates)
        arrivals = []
        for learner in candidates:
            if len(arrivals) >= wanted:
                break
            key = (learner.id, practical.id)
            if practical.id in self.signed_off[learner.id] or self.busy.get(key, opened) > opened:
                continue
            ready = self._ready(learner, practical, starts, session, trainer)
            if ready is None:
                continue
            at = max(ready, opened) + timedelta(hours=self.rng.uniform(1, 24 * 6))
            if at < min(closes, self.now, session["cancelled_at"] or closes):
                arrivals.append((at, learner))
        bookings = []
        for position, (at, learner) in enumerate(sorted(arrivals, key=lambda a: a[0]), 1):
            state = "booked" if position <= session["capacity"] else "waiting"
            booking = {
                "id": self.writer.id(Booking.__table__),
                "registration": new_uuid(self.rng),
                "session_id": session["id"],
                "learner_id": learner.id,
                "state": state,
                "position": position,
                "created_at": at,
                "promoted_at": None,
                "cancelled_at": None,
                "cancelled_by_id": None,
                "learner": learner,
            }
            bookings.append(booking)
            self.busy[(learner.id, practical.id)] = session["ends_at"]
            if state == "booked":
                self._say("practical.registered", booking, activity, practical, at)
        self._cancellations(session, bookings, activity, practical)
        return bookings

    def _ready(self, learner, practical, starts, session, trainer) -> datetime | None:
        """When ``learner`` met the type's rule for this session (None: not eligible),
        now and then after a trainer's waiver of the one condition missing."""
        records = self._records(learner, practical)
        evaluation = rules.evaluate(practical.rule, records, starts)
        if not evaluation.eligible:
            missing = [m for m in evaluation.missing if m.kind in rules.MODULE_KINDS]
            if len(evaluation.missing) != 1 or not missing or self.rng.random() > WAIVER_CHANCE:
                return None
            return self._waive(learner, practical, missing[0].key, session, trainer)
        issued = [q.issued_at for q in records.qualifications if q.module_id in practical.modules]
        return max((i for i in issued if i <= starts), default=session["created_at"])

    def _waive(self, learner, practical, key, session, trainer) -> datetime | None:
        at = session["created_at"] + timedelta(hours=self.rng.uniform(1, 48))
        waived = self.waived[(learner.id, practical.id)]
        if at >= min(self.now, session["starts_at"] - BOOKING_CLOSES) or key in waived:
            return None
        waived.add(key)
        reason = "Equivalent training at a previous employer; certificate on file."
        self.writer.add(
            Waiver.__table__,
            [
                {
                    "id": self.writer.id(Waiver.__table__),
                    "learner_id": learner.id,
                    "type_id": practical.id,
                    "condition_key": key,
                    "reason": reason,
                    "session_id": session["id"],
                    "signer_id": trainer.id,
                    "signer_name": trainer.display_name,
                    "meaning": "performed-and-approved-by",
                    "signed_at": at,
                }
            ],
        )
        self.statements.emit(
            "prerequisite.waived",
            learner,
            _practical_activity(practical),
            at,
            instructor=trainer,
            res=events.Result(extensions={"reason": reason, "condition": key}),
        )
        self.tally.waivers += 1
        return at

    def _cancellations(self, session, bookings, activity, practical) -> None:
        """Some learners cancel before the start; the first waiting takes a freed seat."""
        waiting = [b for b in bookings if b["state"] == "waiting"]
        for booking in bookings:
            if booking["state"] != "booked" or self.rng.random() > 0.08:
                continue
            latest = min(session["starts_at"], self.now, session["cancelled_at"] or self.now)
            at = booking["created_at"] + (latest - booking["created_at"]) * self.rng.random()
            booking.update(state="cancelled", cancelled_at=at)
            booking["cancelled_by_id"] = booking["learner"].id
            self._forget(booking, practical)
            self._say("practical.cancelled", booking, activity, practical, at)
            if waiting and waiting[0]["created_at"] < at:
                promoted = waiting.pop(0)
                promoted.update(state="booked", promoted_at=at)
                self._say("practical.registered", promoted, activity, practical, at)

    def _forget(self, booking: dict, practical: SyntheticType) -> None:
        self.busy.pop((booking["learner"].id, practical.id), None)

    def _cancel_all(self, session, bookings, trainer, practical, activity) -> None:
        for booking in bookings:
            if booking["state"] == "cancelled":
                continue
            if booking["state"] == "booked":
                self._say(
                    "practical.cancelled",
                    booking,
                    activity,
                    practical,
                    session["cancelled_at"],
                    extensions={"reason": "session cancelled"},
                )
            booking.update(state="cancelled", cancelled_at=session["cancelled_at"])
            booking["cancelled_by_id"] = trainer.id
            self._forget(booking, practical)

    def _run(self, session, practical, trainer, bookings, activity) -> None:
        """Check-in of the learners who came, then the trainer's signed outcome."""
        for booking in bookings:
            if booking["state"] != "booked" or self.rng.random() > 0.93:
                continue
            learner = booking["learner"]
            checked = session["starts_at"] + timedelta(minutes=self.rng.uniform(0, 15))
            self.writer.add(
                Attendance.__table__,
                [
                    {
                        "id": self.writer.id(Attendance.__table__),
                        "session_id": session["id"],
                        "learner_id": learner.id,
                        "booking_id": booking["id"],
                        "checked_in_by_id": trainer.id,
                        "checked_in_at": checked,
                    }
                ],
            )
            self.tally.attendances += 1
            self._say("practical.attended", booking, activity, practical, checked, trainer)
            signed = session["ends_at"] - timedelta(minutes=self.rng.uniform(0, 20))
            if signed < self.now:
                self._sign(session, practical, trainer, booking, signed, activity)

    def _sign(self, session, practical, trainer, booking, at, activity) -> None:
        learner = booking["learner"]
        passed = self.rng.random() < 1 / (1 + math.exp(-(learner.ability + 1.8)))
        comments = "" if passed else self.rng.choice(FAIL_COMMENTS)
        self.writer.add(
            SignOff.__table__,
            [
                {
                    "id": self.writer.id(SignOff.__table__),
                    "session_id": session["id"],
                    "learner_id": learner.id,
                    "type_id": practical.id,
                    "type_content_hash": practical.content_hash,
                    "outcome": "pass" if passed else "fail",
                    "comments": comments,
                    "corrects_id": None,
                    "signer_id": trainer.id,
                    "signer_name": trainer.display_name,
                    "meaning": "performed-and-approved-by",
                    "signed_at": at,
                }
            ],
        )
        self.tally.sign_offs["pass" if passed else "fail"] += 1
        if passed:
            self.signed_off[learner.id][practical.id] = at
        self._forget(booking, practical)
        res = events.Result(success=passed, completion=True, response=comments or None)
        kind = "practical.passed" if passed else "practical.failed"
        self._say(kind, booking, activity, practical, at, trainer, res=res)

    def _say(self, kind, booking, activity, practical, at, instructor=None, **extra) -> None:
        self.statements.emit(
            kind,
            booking["learner"],
            activity,
            at,
            registration=booking["registration"],
            parent=_practical_activity(practical),
            instructor=instructor,
            **extra,
        )


def _practical_activity(practical: SyntheticType) -> events.Activity:
    return events.Activity(
        kind="practical",
        path=f"practicals/{practical.id}",
        name=practical.title,
        description=practical.summary,
    )


def _session_activity(session: dict, practical: SyntheticType) -> events.Activity:
    day = session["starts_at"].strftime("%Y-%m-%d %H:%M UTC")
    room = session["room"]
    return events.Activity(
        kind="practical-session",
        path=f"practicals/{practical.id}/sessions/{session['public_id']}",
        name={language: f"{text} · {day} · {room}" for language, text in practical.title.items()},
    )
