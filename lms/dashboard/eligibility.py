"""Who can take each upcoming practical session, and who is held back only by an
expired qualification.

Reads only, in a fixed number of queries whatever the number of learners: the learners
in view and their records are loaded together (``practicals.batch_rules``), and every
learner is judged by the practicals' own rules (``practicals.rules``), at the session's
start as booking and check-in judge them.

Whose learners: those ``scope`` lets the member of staff see (a centre admin: every
organisation, or the one picked), optionally one cohort's; for a session, only those who
may book it (its organisation's learners; anyone's for a session of the centre).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

import sqlalchemy as sa

from lms.auth.models import User
from lms.dashboard import matrix, scope
from lms.dashboard.models import Cohort, CohortMember
from lms.extensions import db
from lms.practicals import batch_rules, booking, rules
from lms.practicals.models import Attendance, Booking, PracticalSession, PracticalType
from lms.progress.rules import add_months

PAGE_SIZE = 50
#: Why a module condition is met again after a refresher: the pass has expired, or is
#: older than the rule accepts.
RENEWABLE = ("expires_before", "too_old")

UnknownCohort = matrix.UnknownCohort
T = TypeVar("T")


@dataclass(frozen=True)
class View:
    """What the pages look at: an organisation (a centre admin's pick; None: all that
    ``scope`` allows) and a cohort."""

    organisation: int | None = None
    cohort: Cohort | None = None

    def args(self) -> dict[str, str | int]:
        """The view as query-string arguments, for links and exports."""
        found: dict[str, str | int] = {}
        if self.organisation:
            found["organisation"] = self.organisation
        if self.cohort is not None:
            found["cohort"] = self.cohort.public_id
        return found


def view_from_args(actor: User, args) -> View:
    """The view asked for in ``args`` (``organisation``, ``cohort``, as on the matrix).

    Raises ``UnknownCohort`` for a cohort ``actor`` may not see.
    """
    filters = matrix.Filters.from_args(args)
    return View(filters.organisation, matrix.resolve_cohort(actor, filters))


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: ``items`` of ``total``, page ``number`` of ``pages``."""

    items: Sequence[T]
    number: int
    pages: int
    total: int


def page_of(items: Sequence[T], number: int | None) -> Page[T]:
    """Page ``number`` (from 1; out-of-range values are brought back in) of ``items``."""
    pages = max(math.ceil(len(items) / PAGE_SIZE), 1)
    number = min(max(number or 1, 1), pages)
    start = (number - 1) * PAGE_SIZE
    return Page(items[start : start + PAGE_SIZE], number, pages, len(items))


# Whose learners ------------------------------------------------------------------------


def _intersect(first: list[int] | None, second: list[int] | None) -> list[int] | None:
    if first is None:
        return second
    if second is None:
        return first
    return [org_id for org_id in first if org_id in second]


def bookers(session: PracticalSession) -> list[int] | None:
    """Organisations whose learners may book ``session`` (None: every one, for the
    centre's sessions), as ``practicals.policy.can_book`` says."""
    return None if session.organisation.is_centre else [session.organisation_id]


def candidate_organisations(actor: User, session: PracticalSession, view: View) -> list[int] | None:
    """Organisations whose learners ``actor`` sees in ``view`` and who may book ``session``."""
    return _intersect(scope.organisation_ids(actor, view.organisation), bookers(session))


def _learner_ids(org_ids: list[int] | None, cohort: Cohort | None) -> sa.Select:
    """Ids of the active learners of ``org_ids`` (None: all), in ``cohort`` if given."""
    query = scope.restrict(
        sa.select(User.id).where(User.role == "learner", User.active.is_(True)),
        User.organisation_id,
        org_ids,
    )
    if cohort is not None:
        members = sa.select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)
        query = query.where(User.id.in_(members))
    return query


def _users(ids: sa.Select) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.id.in_(ids))
            .options(sa.orm.joinedload(User.organisation))
            .order_by(User.display_name, User.id)
        )
    )


def _learner_rows(ids: sa.Select) -> list[sa.Row]:
    """The learners of ``ids`` by name, as rows with what rules read (``id``,
    ``organisation_id``, ``role``, ``learner_category``): no user entities to build."""
    return list(
        db.session.execute(
            sa.select(User.id, User.organisation_id, User.role, User.learner_category)
            .where(User.id.in_(ids))
            .order_by(User.display_name, User.id)
        )
    )


def _rule_modules(types: Sequence[PracticalType]) -> set[str]:
    """The modules some rule of ``types`` mentions: the only passes those rules read."""
    return {c.module for t in types for c in rules.conditions(_rule(t)) if c.module}


@dataclass
class Population:
    """The learners in view (rows, see ``_learner_rows``) with their records for rule
    evaluation, read for the rules of ``types``."""

    learners: list[sa.Row]
    records: batch_rules.RecordsBatch
    types: list[PracticalType]

    def of(self, org_ids: list[int] | None) -> list[sa.Row]:
        """The learners of ``org_ids`` (None: all), by name."""
        if org_ids is None:
            return self.learners
        return [learner for learner in self.learners if learner.organisation_id in org_ids]


def population(actor: User, view: View) -> tuple[list[int] | None, Population]:
    """The organisations in view (None: all) and their learners with their records
    (5 queries)."""
    org_ids = scope.organisation_ids(actor, view.organisation)
    ids = _learner_ids(org_ids, view.cohort)
    learners = _learner_rows(ids)
    types = list(db.session.scalars(sa.select(PracticalType).order_by(PracticalType.id)))
    records = batch_rules.load(learners, ids, modules=_rule_modules(types))
    return org_ids, Population(learners, records, types)


# The sessions ---------------------------------------------------------------------------


def _sessions(query: sa.Select) -> sa.Select:
    return query.options(
        sa.orm.joinedload(PracticalSession.practical_type),
        sa.orm.joinedload(PracticalSession.organisation),
        sa.orm.joinedload(PracticalSession.trainer),
    )


def upcoming_sessions(org_ids: list[int] | None, now: datetime) -> list[PracticalSession]:
    """Scheduled sessions of ``org_ids`` (None: all) starting after ``now``, soonest first."""
    query = scope.restrict(
        sa.select(PracticalSession), PracticalSession.organisation_id, org_ids
    ).where(PracticalSession.status == "scheduled", PracticalSession.starts_at > now)
    return list(
        db.session.scalars(
            _sessions(query).order_by(PracticalSession.starts_at, PracticalSession.id)
        )
    )


def find_session(actor: User, public_id: str) -> PracticalSession | None:
    """The session with ``public_id`` if ``actor`` may see its organisation; else None."""
    if not scope.is_staff(actor) or not public_id or len(public_id) > 36:
        return None
    query = scope.restrict(
        sa.select(PracticalSession),
        PracticalSession.organisation_id,
        scope.organisation_ids(actor),
    ).where(PracticalSession.public_id == public_id)
    return db.session.scalar(_sessions(query))


def _rule(practical_type: PracticalType) -> rules.Rule:
    return rules.rule_from_data(practical_type.prerequisites)


@dataclass
class SessionLine:
    session: PracticalSession
    booked: int
    waiting: int
    #: Learners in view who meet the prerequisites at the start and hold no booking.
    eligible: int


def session_lines(
    org_ids: list[int] | None, people: Population, now: datetime
) -> list[SessionLine]:
    """Every upcoming session of ``org_ids`` with its seats, waiting list and the number
    of learners in view who could still book it (2 queries)."""
    sessions = upcoming_sessions(org_ids, now)
    live: dict[int, dict[int, str]] = {s.id: {} for s in sessions}
    if sessions:
        for session_id, learner_id, state in db.session.execute(
            sa.select(Booking.session_id, Booking.learner_id, Booking.state).where(
                Booking.session_id.in_(list(live)), Booking.state != "cancelled"
            )
        ):
            live[session_id][learner_id] = state
    # Learners sharing what a type's rule reads share its answer: group everyone once per
    # practical type (counting each group's members per organisation, for the sessions
    # only some organisations may book); each group's answer at every start of the type's
    # sessions comes from one pass over its records (a bit per start).
    starts: dict[str, list[datetime]] = {}
    for session in sessions:
        starts.setdefault(session.type_id, []).append(session.starts_at)
    starts = {type_id: sorted(set(found)) for type_id, found in starts.items()}
    organisation_of = {learner.id: learner.organisation_id for learner in people.learners}
    everyone = list(organisation_of)
    groups: dict[str, tuple[list[tuple[int, dict[int, int]]], dict[int, int]]] = {}
    sizes: dict[tuple, list[int]] = {}
    lines = []
    for session in sessions:
        type_id = session.type_id
        if type_id not in groups:
            rule = _rule(session.practical_type)
            found = batch_rules.grouped(rule, people.records, everyone, type_id)
            answers = []
            index_of: dict[int, int] = {}
            for index, members in enumerate(found.values()):
                records = people.records.for_type(members[0], type_id)
                per_org: dict[int, int] = {}
                for member in members:
                    index_of[member] = index
                    org = organisation_of[member]
                    per_org[org] = per_org.get(org, 0) + 1
                answers.append((batch_rules.eligible_mask(rule, records, starts[type_id]), per_org))
            groups[type_id] = (answers, index_of)
        answers, index_of = groups[type_id]
        orgs = bookers(session)
        grouping = (type_id, None if orgs is None else tuple(orgs))
        if grouping not in sizes:
            sizes[grouping] = [
                sum(per_org.values()) if orgs is None else sum(per_org.get(org, 0) for org in orgs)
                for _mask, per_org in answers
            ]
        size = list(sizes[grouping])
        held = live[session.id]
        for learner_id in held:
            if learner_id in index_of and (orgs is None or organisation_of[learner_id] in orgs):
                size[index_of[learner_id]] -= 1
        bit = 1 << bisect.bisect_left(starts[type_id], session.starts_at)
        eligible = sum(
            count for (mask, _per_org), count in zip(answers, size, strict=True) if mask & bit
        )
        states = list(held.values())
        lines.append(
            SessionLine(
                session=session,
                booked=states.count("booked"),
                waiting=states.count("waiting"),
                eligible=eligible,
            )
        )
    return lines


# One session ----------------------------------------------------------------------------


@dataclass
class Line:
    learner: User
    #: At the session's start, waivers included.
    evaluation: rules.Evaluation
    booking: Booking | None = None
    checked_in: bool = False


@dataclass
class SessionEligibility:
    session: PracticalSession
    #: Seated learners, in order of arrival.
    booked: list[Line]
    #: The waiting list, in the order it is served.
    waiting: list[Line]
    #: Learners in view who meet the prerequisites and hold no booking, by name.
    eligible: list[Line]
    #: Learners in view who could take the practical but miss something, by name.
    not_yet: list[Line]
    #: Learners in view whose role or category shuts them out of this practical.
    out_of_reach: int
    booking_open: bool
    booking_closes_at: datetime


def session_eligibility(
    actor: User, session: PracticalSession, view: View, now: datetime
) -> SessionEligibility:
    """Who is booked (checked in or not), waiting, eligible and not yet eligible for
    ``session``, among the learners in ``view`` who may book it (6 queries)."""
    live = list(
        db.session.scalars(
            sa.select(Booking)
            .where(Booking.session_id == session.id, Booking.state != "cancelled")
            .options(sa.orm.joinedload(Booking.learner).joinedload(User.organisation))
            .order_by(Booking.position)
        )
    )
    present = set(
        db.session.scalars(
            sa.select(Attendance.learner_id).where(Attendance.session_id == session.id)
        )
    )
    candidate_ids = _learner_ids(candidate_organisations(actor, session, view), view.cohort)
    held = {item.learner_id for item in live}
    candidates = [learner for learner in _users(candidate_ids) if learner.id not in held]
    everyone = candidates + [item.learner for item in live]
    seated = sa.select(Booking.learner_id).where(
        Booking.session_id == session.id, Booking.state != "cancelled"
    )
    ids = sa.select(User.id).where(sa.or_(User.id.in_(candidate_ids), User.id.in_(seated)))
    records = batch_rules.load(everyone, ids, type_ids=[session.type_id])
    rule = _rule(session.practical_type)
    evaluations = batch_rules.evaluate_many(
        rule, records, [person.id for person in everyone], session.type_id, session.starts_at
    )
    reachable = batch_rules.within_reach_many(
        rule, records, [learner.id for learner in candidates], session.type_id
    )
    seats = [
        Line(item.learner, evaluations[item.learner_id], item, item.learner_id in present)
        for item in live
    ]
    unbooked = [Line(learner, evaluations[learner.id]) for learner in candidates]
    return SessionEligibility(
        session=session,
        booked=[line for line in seats if line.booking.state == "booked"],
        waiting=[line for line in seats if line.booking.state == "waiting"],
        eligible=[line for line in unbooked if line.evaluation.eligible],
        not_yet=[
            line
            for line in unbooked
            if not line.evaluation.eligible and line.learner.id in reachable
        ],
        out_of_reach=len(candidates) - len(reachable),
        booking_open=booking.is_open(session, now),
        booking_closes_at=booking.booking_closes_at(session),
    )


# Held back only by an expired qualification ---------------------------------------------


@dataclass(frozen=True)
class Renewal:
    """A module to pass again, and when the learner's pass stopped counting."""

    module_id: str
    ended_at: datetime


@dataclass
class BlockedLearner:
    practical_type: PracticalType
    learner: User
    #: What to renew, in the rule's order; passing these again makes the learner eligible.
    renewals: list[Renewal]


def _renew_item(item: rules.MissingCondition) -> list[rules.MissingCondition] | None:
    if item.condition is None:
        branches = (to_renew(branch) for branch in item.alternatives)
        return next((found for found in branches if found), None)
    if item.kind in rules.MODULE_KINDS and item.reason in RENEWABLE:
        return [item]
    return None


def to_renew(missing: Sequence[rules.MissingCondition]) -> list[rules.MissingCondition] | None:
    """The missing module conditions to renew when the learner misses nothing else: every
    item is a pass that has expired or grown too old (for an ``any_of`` group: one branch
    made only of those). None when something else is missing, or nothing is."""
    found: list[rules.MissingCondition] = []
    for item in missing:
        leaves = _renew_item(item)
        if leaves is None:
            return None
        found.extend(leaves)
    return found or None


def _renewal(item: rules.MissingCondition) -> Renewal:
    if item.reason == "expires_before":
        return Renewal(item.condition.module, item.detail["valid_until"])
    months = item.condition.within_months
    return Renewal(item.condition.module, add_months(item.detail["issued_at"], months))


def blocked_by_expiry(people: Population, now: datetime) -> list[BlockedLearner]:
    """For each practical type, the learners in ``people`` who could take it now but for
    a qualification they held that has expired (or grown older than the rule accepts),
    and nothing else: whom to send to a refresher (1 query, for the users found)."""
    found: list[tuple[PracticalType, int, list[Renewal]]] = []
    order = [learner.id for learner in people.learners]
    for practical_type in people.types:
        rule = _rule(practical_type)
        # Learners whose records agree on what the rule reads get the same answer.
        renewals_of: dict[int, list[Renewal]] = {}
        for members in batch_rules.grouped(rule, people.records, order, practical_type.id).values():
            records = people.records.for_type(members[0], practical_type.id)
            if not rules.within_reach(rule, records):
                continue
            evaluation = rules.evaluate(rule, records, now)
            leaves = None if evaluation.eligible else to_renew(evaluation.missing)
            if leaves:
                renewals = list(dict.fromkeys(_renewal(leaf) for leaf in leaves))
                renewals_of.update(dict.fromkeys(members, renewals))
        found.extend(
            (practical_type, learner_id, list(renewals_of[learner_id]))
            for learner_id in order
            if learner_id in renewals_of
        )
    by_id = _users_by_id({learner_id for _type, learner_id, _renewals in found})
    return [
        BlockedLearner(practical_type, by_id[learner_id], renewals)
        for practical_type, learner_id, renewals in found
    ]


def _users_by_id(ids: set[int]) -> dict[int, User]:
    """The users of ``ids`` with their organisation (one query, none for no ids)."""
    if not ids:
        return {}
    query = (
        sa.select(User)
        .where(User.id.in_(sorted(ids)))
        .options(sa.orm.joinedload(User.organisation))
    )
    return {user.id: user for user in db.session.scalars(query)}
