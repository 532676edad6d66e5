"""Eligibility of many learners at once, for the trainers' dashboards.

``records`` reads one learner's records with a few queries; this module reads the same
records for a whole set of learners in a fixed number of queries (whatever their
number) and hands each learner's to the same pure ``rules.evaluate``. The rules stay in
``rules``; what counts as a pass, a sign-off or a waiver is read as ``records`` reads it
(tests/dashboard/test_eligibility_batch.py holds the two to the same answers).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import sqlalchemy as sa

from lms.extensions import db
from lms.practicals import records, rules
from lms.practicals.models import SignOff, Waiver
from lms.practicals.rules import LearnerRecords, QualificationRecord

#: Learner ids as a list or as a query selecting them (no limit on their number then).
LearnerIds = Collection[int] | sa.Select


def qualification_records_for(
    learner_ids: LearnerIds, modules: Collection[str] | None = None
) -> dict[int, list[QualificationRecord]]:
    """Learner id -> ``records.qualification_records`` of that learner (one query;
    ``modules``: only the passes of those modules, None: all)."""
    from lms.progress.models import Qualification

    corrected = sa.select(Qualification.corrects_id).where(Qualification.corrects_id.is_not(None))
    query = (
        sa.select(
            Qualification.user_id,
            Qualification.module_id,
            Qualification.score_scaled,
            Qualification.issued_at,
            Qualification.valid_until,
        )
        .where(Qualification.user_id.in_(learner_ids), Qualification.id.not_in(corrected))
        .where(Qualification.valid_until > Qualification.issued_at)
    )
    if modules is not None:
        query = query.where(Qualification.module_id.in_(sorted(modules)))
    rows = db.session.execute(query)
    found: dict[int, list[QualificationRecord]] = {}
    for user_id, module_id, score, issued_at, valid_until in rows:
        found.setdefault(user_id, []).append(
            QualificationRecord(module_id, score, issued_at, valid_until)
        )
    return found


def signed_off_types_for(learner_ids: LearnerIds) -> dict[int, dict[str, datetime]]:
    """Learner id -> ``records.signed_off_types`` of that learner (one query)."""
    query = (
        records.effective_sign_offs()
        .where(SignOff.learner_id.in_(learner_ids), SignOff.outcome == "pass")
        .with_only_columns(SignOff.learner_id, SignOff.type_id, sa.func.max(SignOff.signed_at))
        .group_by(SignOff.learner_id, SignOff.type_id)
    )
    found: dict[int, dict[str, datetime]] = {}
    for learner_id, type_id, signed_at in db.session.execute(query):
        found.setdefault(learner_id, {})[type_id] = signed_at
    return found


def waived_keys_for(
    learner_ids: LearnerIds, type_ids: Collection[str] | None = None
) -> dict[tuple[int, str], frozenset[str]]:
    """(learner id, type id) -> ``records.waived_keys`` (one query; ``type_ids``: only
    those practical types, None: all)."""
    query = sa.select(Waiver.learner_id, Waiver.type_id, Waiver.condition_key).where(
        Waiver.learner_id.in_(learner_ids)
    )
    if type_ids is not None:
        query = query.where(Waiver.type_id.in_(list(type_ids)))
    found: dict[tuple[int, str], set[str]] = {}
    for learner_id, type_id, key in db.session.execute(query):
        found.setdefault((learner_id, type_id), set()).add(key)
    return {pair: frozenset(keys) for pair, keys in found.items()}


@dataclass(frozen=True)
class RecordsBatch:
    """The records of many learners: ``base`` without waivers (as
    ``records.learner_records``), and the waived condition keys per practical type."""

    base: Mapping[int, LearnerRecords] = field(default_factory=dict)
    waivers: Mapping[tuple[int, str], frozenset[str]] = field(default_factory=dict)
    #: Learner id -> module id -> their passes of it, in the order of ``base`` (for
    #: ``grouped``, which would otherwise scan every pass of every learner per rule).
    passes: Mapping[int, Mapping[str, tuple[QualificationRecord, ...]]] = field(
        default_factory=dict
    )

    def for_type(self, learner_id: int, type_id: str) -> LearnerRecords:
        """The learner's records with their waivers for ``type_id`` (as ``records.for_type``).

        Raises ``KeyError`` for a learner the batch was not loaded for.
        """
        found = self.base[learner_id]
        waived = self.waivers.get((learner_id, type_id))
        return replace(found, waived=waived) if waived else found


def load(
    learners: Iterable,
    learner_ids: LearnerIds | None = None,
    type_ids: Collection[str] | None = None,
    modules: Collection[str] | None = None,
) -> RecordsBatch:
    """The records of ``learners`` (users, or rows with their ``id``, ``role`` and
    ``learner_category``) in three queries, none when there are none.

    ``learner_ids`` may select the same learners by a query instead of a long list of
    ids; ``type_ids`` limits the waivers read to those practical types; ``modules`` the
    passes read to those modules (enough for rules that mention no other).
    """
    people = list(learners)
    if not people:
        return RecordsBatch()
    ids = learner_ids if learner_ids is not None else [person.id for person in people]
    passes = qualification_records_for(ids, modules)
    signed = signed_off_types_for(ids)
    base = {
        person.id: LearnerRecords(
            qualifications=tuple(passes.get(person.id, ())),
            signed_off=signed.get(person.id, {}),
            role=person.role,
            learner_category=person.learner_category,
        )
        for person in people
    }
    by_module = {person_id: _by_module(found.qualifications) for person_id, found in base.items()}
    return RecordsBatch(base, waived_keys_for(ids, type_ids), by_module)


def _by_module(
    passes: Iterable[QualificationRecord],
) -> dict[str, tuple[QualificationRecord, ...]]:
    index: dict[str, list[QualificationRecord]] = {}
    for item in passes:
        index.setdefault(item.module_id, []).append(item)
    return {module: tuple(items) for module, items in index.items()}


def relevance(rule: rules.Rule) -> Callable[[LearnerRecords], Hashable]:
    """A function giving, for a learner's records, the part of them ``rule`` reads: two
    learners with the same part get the same evaluation, so it is computed once."""
    leaves = list(rules.conditions(rule))
    modules = {c.module for c in leaves if c.module}
    practicals = {c.practical for c in leaves if c.practical}
    reads_role = any(c.kind == "role" for c in leaves)
    reads_category = any(c.kind == "learner_category" for c in leaves)

    def part(found: LearnerRecords) -> Hashable:
        return (
            tuple(q for q in found.qualifications if q.module_id in modules),
            tuple(sorted((t, at) for t, at in found.signed_off.items() if t in practicals)),
            found.role if reads_role else None,
            found.learner_category if reads_category else None,
            found.waived,
        )

    return part


def grouped(
    rule: rules.Rule, batch: RecordsBatch, learner_ids: Iterable[int], type_id: str
) -> dict[Hashable, list[int]]:
    """The learners whose records agree on what ``rule`` reads (as ``relevance`` tells
    them apart), in groups sharing one evaluation; each group in the order given."""
    leaves = list(rules.conditions(rule))
    modules = sorted({c.module for c in leaves if c.module})
    practicals = {c.practical for c in leaves if c.practical}
    reads_role = any(c.kind == "role" for c in leaves)
    reads_category = any(c.kind == "learner_category" for c in leaves)
    found: dict[Hashable, list[int]] = {}
    for learner_id in learner_ids:
        records_of = batch.base[learner_id]
        index = batch.passes.get(learner_id)
        if index is None:
            index = _by_module(records_of.qualifications)
        signed = records_of.signed_off
        key = (
            tuple(index.get(module, ()) for module in modules),
            tuple(sorted((t, at) for t, at in signed.items() if t in practicals))
            if signed and practicals
            else (),
            records_of.role if reads_role else None,
            records_of.learner_category if reads_category else None,
            batch.waivers.get((learner_id, type_id), frozenset()),
        )
        found.setdefault(key, []).append(learner_id)
    return found


def evaluate_many(
    rule: rules.Rule, batch: RecordsBatch, learner_ids: Iterable[int], type_id: str, at: datetime
) -> dict[int, rules.Evaluation]:
    """Learner id -> ``rules.evaluate`` of ``rule`` (the rule of ``type_id``) at ``at``,
    waivers included: the answer ``booking.evaluation_for`` gives one learner at a time.
    Learners whose records agree on what the rule reads share one evaluation."""
    found = {}
    for members in grouped(rule, batch, learner_ids, type_id).values():
        evaluation = rules.evaluate(rule, batch.for_type(members[0], type_id), at)
        found.update(dict.fromkeys(members, evaluation))
    return found


def within_reach_many(
    rule: rules.Rule, batch: RecordsBatch, learner_ids: Iterable[int], type_id: str
) -> set[int]:
    """The learners whose role and category let them take the practical (``rules.within_reach``)."""
    found: set[int] = set()
    for members in grouped(rule, batch, learner_ids, type_id).values():
        if rules.within_reach(rule, batch.for_type(members[0], type_id)):
            found.update(members)
    return found


def eligible_mask(rule: rules.Rule, found: LearnerRecords, starts: Sequence[datetime]) -> int:
    """Whether ``found`` satisfy ``rule`` at each of ``starts`` (sorted): bit ``i`` is set
    when ``rules.evaluate(rule, found, starts[i]).eligible``. One pass over the records
    answers every start, instead of one evaluation per start."""
    every = (1 << len(starts)) - 1
    cutoffs: dict[int, list[datetime]] = {}

    def cutoff(months: int) -> list[datetime]:
        if months not in cutoffs:
            cutoffs[months] = [rules.months_before(at, months) for at in starts]
        return cutoffs[months]

    def span(since: datetime, until: datetime | None, months: int | None, dated: datetime) -> int:
        # Starts at or after ``since``, before ``until``, not later than ``months`` after ``dated``.
        low = bisect.bisect_left(starts, since)
        high = len(starts) if until is None else bisect.bisect_left(starts, until)
        if low >= high:
            return 0
        if months is None:
            return ((1 << high) - 1) & ~((1 << low) - 1)
        limits = cutoff(months)
        mask = 0
        for index in range(low, high):
            if dated >= limits[index]:
                mask |= 1 << index
        return mask

    def leaf(condition: rules.Condition) -> int:
        if condition.key in found.waived:
            return every
        if condition.kind in rules.MODULE_KINDS:
            mask = 0
            for item in found.qualifications:
                if item.module_id != condition.module:
                    continue
                if condition.min_score is not None and (
                    item.score is None or item.score < condition.min_score
                ):
                    continue
                expires = item.valid_until if condition.kind == "qualification_valid" else None
                mask |= span(item.issued_at, expires, condition.within_months, item.issued_at)
            return mask
        if condition.kind == "practical_signed_off":
            signed = found.signed_off.get(condition.practical or "")
            if signed is None:
                return 0
            return span(signed, None, condition.within_months or None, signed)
        value = found.role if condition.kind == "role" else found.learner_category
        return every if value in condition.values else 0

    def walk(item: rules.Rule) -> int:
        if isinstance(item, rules.Condition):
            return leaf(item)
        masks = [walk(part) for part in item.items]
        if isinstance(item, rules.AllOf):
            mask = every
            for part in masks:
                mask &= part
            return mask
        mask = 0
        for part in masks:
            mask |= part
        return mask

    return walk(rule)
