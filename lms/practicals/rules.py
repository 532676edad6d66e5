"""Prerequisite rules of practical types: an AND/OR tree of conditions, and its evaluation.

Pure functions over plain values (no Flask, no database). A rule is read from the
``prerequisites`` of a practical type file (``parse_rule``) and evaluated against a
learner's records at the moment of the session (``evaluate``), which answers eligible or
not and, if not, what is missing. ``lms.practicals.wording`` puts the answer in words.

Condition kinds (see modules/README.md, "Practical types"):

- ``module_passed``: a pass of the module issued on or before the session, optionally
  with ``min_score`` (0..1) and issued ``within_months`` before the session. The pass's
  own expiry is not looked at: "has passed", not "is qualified".
- ``qualification_valid``: as ``module_passed``, and the qualification is still valid
  (not expired) at the session: a pass that will have expired by then does not count.
- ``practical_signed_off``: a passing sign-off of that practical type, optionally
  ``within_months`` before the session.
- ``role`` / ``learner_category``: the learner's role or category is one of ``in``.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lms.catalog.schema import FileChecker
from lms.catalog.sourcetext import Path

MODULE_KINDS = ("module_passed", "qualification_valid")
CONDITION_KINDS = (*MODULE_KINDS, "practical_signed_off", "role", "learner_category")
GROUP_KINDS = ("all_of", "any_of")
ROLES = ("learner", "trainer", "admin")
LEARNER_CATEGORIES = ("worker", "job_seeker", "student", "teacher")
#: Deepest nesting of all_of/any_of accepted in a file.
MAX_DEPTH = 6
MAX_MONTHS = 600


@dataclass(frozen=True)
class Condition:
    """One leaf of a rule; which fields are set depends on ``kind``."""

    kind: str
    module: str | None = None
    practical: str | None = None
    min_score: float | None = None
    within_months: int | None = None
    #: Allowed roles or learner categories.
    values: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The condition's stable name, which a waiver names: ``kind`` or ``kind:target``."""
        target = self.module or self.practical
        return f"{self.kind}:{target}" if target else self.kind

    @property
    def link(self) -> tuple[str, str] | None:
        """What satisfies the condition: ``("module", id)``, ``("practical", id)`` or None."""
        if self.module:
            return ("module", self.module)
        if self.practical:
            return ("practical", self.practical)
        return None

    def as_data(self) -> dict[str, Any]:
        """The condition as written in a file: ``{kind: {params}}``."""
        if self.kind in ("role", "learner_category"):
            return {self.kind: {"in": list(self.values)}}
        params: dict[str, Any] = {}
        if self.module:
            params["module"] = self.module
        if self.practical:
            params["practical"] = self.practical
        if self.min_score is not None:
            params["min_score"] = self.min_score
        if self.within_months is not None:
            params["within_months"] = self.within_months
        return {self.kind: params}


@dataclass(frozen=True)
class AllOf:
    items: tuple[Rule, ...]

    def as_data(self) -> dict[str, Any]:
        return {"all_of": [item.as_data() for item in self.items]}


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Rule, ...]

    def as_data(self) -> dict[str, Any]:
        return {"any_of": [item.as_data() for item in self.items]}


Rule = Condition | AllOf | AnyOf
#: The rule of a practical type without prerequisites.
NO_PREREQUISITES: Rule = AllOf(())


# Records -----------------------------------------------------------------------------


@dataclass(frozen=True)
class QualificationRecord:
    """A pass of a theory module: ``score`` is 0..1 (None if unscored); it counts until
    ``valid_until`` (excluded; None: no expiry)."""

    module_id: str
    score: float | None
    issued_at: datetime
    valid_until: datetime | None


@dataclass(frozen=True)
class LearnerRecords:
    """What a rule is evaluated against; built by ``lms.practicals.records``."""

    qualifications: tuple[QualificationRecord, ...] = ()
    #: Practical type id -> when its latest passing sign-off (not corrected away) was signed.
    signed_off: Mapping[str, datetime] = field(default_factory=dict)
    role: str = "learner"
    learner_category: str | None = None
    #: Keys of the conditions waived for this learner (for the practical type evaluated).
    waived: frozenset[str] = frozenset()


@dataclass(frozen=True)
class MissingCondition:
    """A condition not met. ``reason``: ``not_passed``, ``score_too_low``, ``too_old``,
    ``expires_before``, ``not_signed_off``, ``not_allowed``, or ``one_of`` for an any_of
    group whose ``alternatives`` (each a list of what that branch misses) are all unmet.
    ``detail`` holds what the learner has (best score, latest date, ...)."""

    condition: Condition | None
    reason: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    alternatives: tuple[tuple[MissingCondition, ...], ...] = ()

    @property
    def kind(self) -> str:
        return self.condition.kind if self.condition else "any_of"

    @property
    def key(self) -> str | None:
        return self.condition.key if self.condition else None

    @property
    def link(self) -> tuple[str, str] | None:
        return self.condition.link if self.condition else None

    def leaves(self) -> Iterator[MissingCondition]:
        """This and every missing condition inside its alternatives."""
        if self.condition is not None:
            yield self
        for branch in self.alternatives:
            for item in branch:
                yield from item.leaves()


@dataclass(frozen=True)
class Evaluation:
    eligible: bool
    missing: tuple[MissingCondition, ...] = ()
    #: Conditions that count as met only because they were waived.
    waived: tuple[Condition, ...] = ()

    def missing_keys(self) -> list[str]:
        """Keys of every missing condition, in order, without repeats (what may be waived)."""
        keys: list[str] = []
        for item in self.missing:
            for leaf in item.leaves():
                if leaf.key not in keys:
                    keys.append(leaf.key)
        return keys


# Evaluation --------------------------------------------------------------------------


def evaluate(rule: Rule, records: LearnerRecords, at: datetime) -> Evaluation:
    """Whether ``records`` satisfy ``rule`` at ``at`` (the session's start), and what is missing.

    A waived condition counts as met and is listed in ``waived``.
    """
    return _evaluate(rule, records, at, _check)


def within_reach(rule: Rule, records: LearnerRecords) -> bool:
    """True unless the rule shuts the learner out for who they are (role or category):
    modules and practicals are things a learner can still go and pass."""

    def check(condition, records, at):
        if condition.kind in ("role", "learner_category"):
            return _check(condition, records, at)
        return None

    return _evaluate(rule, records, datetime.max, check).eligible


Checker = Callable[[Condition, LearnerRecords, datetime], MissingCondition | None]


def _evaluate(rule: Rule, records: LearnerRecords, at: datetime, check: Checker) -> Evaluation:
    if isinstance(rule, Condition):
        if rule.key in records.waived:
            return Evaluation(True, waived=(rule,))
        missing = check(rule, records, at)
        return Evaluation(missing is None, (missing,) if missing else ())
    results = [_evaluate(item, records, at, check) for item in rule.items]
    waived = tuple(condition for result in results for condition in result.waived)
    if isinstance(rule, AllOf):
        missing = tuple(item for result in results for item in result.missing)
        return Evaluation(not missing, missing, waived)
    if any(result.eligible for result in results):
        return Evaluation(True, (), waived)
    group = MissingCondition(None, "one_of", alternatives=tuple(r.missing for r in results))
    return Evaluation(False, (group,), waived)


def _check(condition: Condition, records: LearnerRecords, at: datetime) -> MissingCondition | None:
    if condition.kind in MODULE_KINDS:
        return _check_module(condition, records, at)
    if condition.kind == "practical_signed_off":
        signed = records.signed_off.get(condition.practical or "")
        if signed is None or signed > at:
            return MissingCondition(condition, "not_signed_off")
        if condition.within_months and signed < months_before(at, condition.within_months):
            return MissingCondition(condition, "too_old", {"signed_at": signed})
        return None
    value = records.role if condition.kind == "role" else records.learner_category
    return None if value in condition.values else MissingCondition(condition, "not_allowed")


def _check_module(
    condition: Condition, records: LearnerRecords, at: datetime
) -> MissingCondition | None:
    passes = [
        q for q in records.qualifications if q.module_id == condition.module and q.issued_at <= at
    ]
    if not passes:
        return MissingCondition(condition, "not_passed")
    if condition.min_score is not None:
        scores = [q.score for q in passes if q.score is not None]
        passes = [q for q in passes if q.score is not None and q.score >= condition.min_score]
        if not passes:
            return MissingCondition(condition, "score_too_low", {"best_score": max(scores or [0])})
    if condition.within_months is not None:
        since = months_before(at, condition.within_months)
        latest = max(q.issued_at for q in passes)
        passes = [q for q in passes if q.issued_at >= since]
        if not passes:
            return MissingCondition(condition, "too_old", {"issued_at": latest})
    if condition.kind == "qualification_valid":
        valid = [q for q in passes if q.valid_until is None or at < q.valid_until]
        if not valid:
            until = max(q.valid_until for q in passes if q.valid_until is not None)
            return MissingCondition(condition, "expires_before", {"valid_until": until})
    return None


def months_before(moment: datetime, months: int) -> datetime:
    """``moment`` moved back by calendar months (31 March - 1 month = 28 or 29 February)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def conditions(rule: Rule) -> Iterator[Condition]:
    """Every condition of ``rule``, depth first."""
    if isinstance(rule, Condition):
        yield rule
    else:
        for item in rule.items:
            yield from conditions(item)


# Reading from a file -----------------------------------------------------------------


def parse_rule(value: Any, checker: FileChecker, path: Path = ("prerequisites",)) -> Rule | None:
    """Check and read a rule tree; problems go to ``checker``.

    Returns what could be read (unsound parts left out), so that the references of a
    broken file can still be checked; a rule is sound only if no problem was added.
    """
    return _parse(value, checker, path, 1)


def rule_from_data(data: Any) -> Rule:
    """A rule stored by ``as_data``; raises ``ValueError`` when it is not sound.

    A type without prerequisites is stored as an empty ``all_of``, which a file may not say.
    """
    if data == NO_PREREQUISITES.as_data():
        return NO_PREREQUISITES
    checker = FileChecker("<stored rule>")
    rule = parse_rule(data, checker, ())
    if rule is None or checker.problems:
        raise ValueError("; ".join(problem.format() for problem in checker.problems))
    return rule


def _parse(value: Any, checker: FileChecker, path: Path, depth: int) -> Rule | None:
    if not isinstance(value, Mapping) or len(value) != 1:
        kinds = ", ".join((*GROUP_KINDS, *CONDITION_KINDS))
        checker.add(path, f"expected a mapping with exactly one key, one of: {kinds}")
        return None
    kind, body = next(iter(value.items()))
    kind = str(kind)
    if kind in GROUP_KINDS:
        if depth > MAX_DEPTH:
            checker.add(path, f"rules nest deeper than {MAX_DEPTH} levels")
            return None
        items = checker.sequence(body, (*path, kind), min_items=1)
        parsed = [
            _parse(item, checker, (*path, kind, i), depth + 1) for i, item in enumerate(items)
        ]
        group = AllOf if kind == "all_of" else AnyOf
        return group(tuple(p for p in parsed if p is not None))
    if kind not in CONDITION_KINDS:
        checker.add((*path, kind), f"unknown condition {kind!r}")
        return None
    return _parse_condition(kind, body, checker, (*path, kind))


def _parse_condition(kind: str, body: Any, checker: FileChecker, path: Path) -> Condition | None:
    if kind in ("role", "learner_category"):
        data = checker.mapping(body, path, required=("in",))
        allowed = ROLES if kind == "role" else LEARNER_CATEGORIES
        values = checker.sequence((data or {}).get("in"), (*path, "in"), min_items=1)
        checked = [checker.choice(item, (*path, "in", i), allowed) for i, item in enumerate(values)]
        return Condition(kind, values=tuple(v for v in checked if v)) if data else None
    target = "module" if kind in MODULE_KINDS else "practical"
    optional = ("within_months", "min_score") if target == "module" else ("within_months",)
    data = checker.mapping(body, path, required=(target,), optional=optional)
    if data is None:
        return None
    reference = checker.slug(data.get(target), (*path, target)) if target in data else None
    months = None
    if "within_months" in data:
        months = checker.integer(
            data["within_months"], (*path, "within_months"), minimum=1, maximum=MAX_MONTHS
        )
    score = None
    if "min_score" in data:
        score = checker.number(data["min_score"], (*path, "min_score"))
        if score is not None and not 0 < score <= 1:
            checker.add((*path, "min_score"), f"must be above 0 and at most 1, not {score}")
    return Condition(kind, within_months=months, min_score=score, **{target: reference})
