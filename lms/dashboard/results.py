"""Module results and item statistics: the figures of the results pages.

Which attempts count (the pages say so too):

- **Attempts, learners, pass rate, mean score and mean time**: every submitted attempt
  of the learners in scope.
- **Score distribution, test statistics and question statistics**: the first submitted
  attempt of each learner on the module version, the usual basis of item analysis (a
  second attempt is taken by someone who has seen the questions and their feedback).
  Statistics are per version: a new version may have a different question bank.
- **Learners in scope**: accounts with the learner role in the organisations the member
  of staff may see (see ``scope``), active or not (a departed learner's attempts still
  tell how the questions work), and only the members of a cohort when one is chosen.

Counts and sums are grouped in the database (``results_queries``); the formulas are in
``itemstats``. Question statistics need every first attempt's every answer, which is
too much to add up on each view of the module list, so they are kept per process in a
:class:`FigureCache`, keyed by version and scope and checked against a fingerprint of
the attempts (submitted attempts never change; a new one changes the fingerprint).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from lms.auth import policy
from lms.auth.models import User
from lms.catalog.models import Module, ModuleVersion
from lms.dashboard import itemstats, matrix, scope
from lms.dashboard import results_queries as queries
from lms.dashboard.responses_summary import AnswerCount, decode, summarise_answers
from lms.dashboard.results_queries import NOT_DRAWN, ItemFigures, Scope
from lms.extensions import db
from lms.quiz.models import Attempt

#: The columns the module list sorts by.
SORT_KEYS = ("title", "attempts", "learners", "pass_rate", "mean_score", "mean_seconds", "flagged")


def scope_from_args(actor: User, args) -> Scope:
    """The scope asked for in ``args`` (``organisation`` for a centre admin, ``cohort``),
    cut to what ``actor`` may see. Raises ``matrix.UnknownCohort`` for a cohort that
    ``actor`` may not see."""
    filters = matrix.Filters.from_args(args)
    cohort = matrix.resolve_cohort(actor, filters)
    organisation = filters.organisation if policy.is_centre_admin(actor) else None
    return Scope(scope.organisation_ids(actor, organisation), organisation, cohort)


# The cache ---------------------------------------------------------------------------


class FigureCache:
    """Figures computed from submitted attempts, kept while their fingerprint holds.

    Per process (each web worker has its own), least recently used first out.
    """

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._entries: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, fingerprint: Any) -> Any | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[0] != fingerprint:
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: tuple, fingerprint: Any, value: Any) -> None:
        with self._lock:
            self._entries[key] = (fingerprint, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def figure_cache() -> FigureCache:
    """The application's cache of item figures (created on first use)."""
    return current_app.extensions.setdefault("lms.dashboard.figures", FigureCache())


def _item_figures(
    within: Scope, prints: dict[int, queries.Fingerprint], first: sa.CTE | None = None
) -> dict[int, queries.VersionFigures]:
    """The question figures of the versions in ``prints``: from the cache where the
    fingerprint still matches, the others computed together (from ``first``, the first
    attempts, when given)."""
    cache = figure_cache()
    found: dict[int, queries.VersionFigures] = {}
    for version_id, fingerprint in prints.items():
        hit = cache.get(("items", version_id, within.key), fingerprint)
        if hit is not None:
            found[version_id] = hit
    stale = [version_id for version_id in prints if version_id not in found]
    if not stale:
        return found
    if first is None:
        ids = queries.first_attempt_ids(within, Attempt.version_id.in_(stale))
        first = queries.first_attempts(ids)
    computed = queries.item_figures(first)
    for version_id in stale:
        found[version_id] = computed.get(version_id, queries.VersionFigures())
        cache.put(("items", version_id, within.key), prints[version_id], found[version_id])
    return found


# The module list ---------------------------------------------------------------------


@dataclass(frozen=True)
class ModuleSummary:
    module_id: str
    title: dict[str, str]
    retired: bool
    attempts: int = 0
    learners: int = 0
    passed: int = 0
    mean_score: float | None = None
    mean_seconds: float | None = None
    #: Learners with a first attempt at the current version.
    first_attempts: int = 0
    #: Questions of the current version with at least one flag.
    flagged: int = 0

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.attempts if self.attempts else None

    @property
    def few_attempts(self) -> bool:
        return self.first_attempts < itemstats.MIN_ATTEMPTS


def module_summaries(within: Scope) -> list[ModuleSummary]:
    """Every module with a loaded version, with its figures in ``within`` (3 queries, a
    4th when question figures must be computed), by id."""
    modules = db.session.execute(
        sa.select(Module.id, Module.status, Module.current_version_id, ModuleVersion.title)
        .join(ModuleVersion, ModuleVersion.id == Module.current_version_id)
        .order_by(Module.id)
    ).all()
    by_module = queries.totals(within, Attempt.module_id, current=True)
    totals = {row.key: row for row in db.session.execute(by_module)}
    prints = {}
    for module_id, _status, version, _title in modules:
        found = totals.get(module_id)
        if found is not None and found.current_attempts:
            prints[version] = queries.fingerprint(
                found.current_attempts, found.current_ids, found.current_latest
            )
    figures = _item_figures(within, prints)
    return [
        _summary(
            module_id,
            title,
            status == "retired",
            totals.get(module_id),
            figures.get(version, queries.VersionFigures()),
        )
        for module_id, status, version, title in modules
    ]


def _summary(module_id, title, retired, found, figures: queries.VersionFigures) -> ModuleSummary:
    if found is None:
        return ModuleSummary(module_id, title, retired)
    return ModuleSummary(
        module_id=module_id,
        title=title,
        retired=retired,
        attempts=int(found.attempts),
        learners=int(found.learners),
        passed=int(found.passed),
        mean_score=_float(found.mean_score),
        mean_seconds=_float(found.seconds),
        first_attempts=figures.first_attempts,
        flagged=sum(1 for item in figures.items.values() if item.flags),
    )


def _float(value) -> float | None:
    return None if value is None else float(value)


def sort_summaries(
    summaries: list[ModuleSummary], key: str, descending: bool, title_of: Callable
) -> list[ModuleSummary]:
    """``summaries`` sorted by ``key`` (one of ``SORT_KEYS``; else by title); rows
    without a value come last either way, ties by title."""
    by_title = sorted(summaries, key=lambda s: title_of(s.title).casefold())
    if key not in SORT_KEYS or key == "title":
        return list(reversed(by_title)) if descending else by_title
    known = [s for s in by_title if getattr(s, key) is not None]
    unknown = [s for s in by_title if getattr(s, key) is None]
    return sorted(known, key=lambda s: getattr(s, key), reverse=descending) + unknown


# One module --------------------------------------------------------------------------


@dataclass(frozen=True)
class VersionChoice:
    id: int
    label: str
    loaded_at: datetime
    is_current: bool
    attempts: int


@dataclass(frozen=True)
class Headline:
    """Every submitted attempt at the version by the learners in scope."""

    attempts: int = 0
    learners: int = 0
    passed: int = 0
    #: Learners with at least one passed attempt.
    learners_passed: int = 0
    mean_score: float | None = None
    mean_seconds: float | None = None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.attempts if self.attempts else None


@dataclass(frozen=True)
class TestFigures:
    """The first attempts' scores (shares 0..1) and the test's reliability."""

    attempts: int
    mean: float | None
    median: float | None
    sd: float | None
    reliability: float | None
    #: ``kr20`` (every question right or wrong) or ``alpha`` (partial credit).
    reliability_kind: str | None
    #: ``questions``: every attempt had the same questions; ``positions``: questions are
    #: drawn from a bank, so the quiz's places (1st question, 2nd, ...) are its items,
    #: as Moodle does for random questions.
    reliability_basis: str | None
    #: Why there is no reliability: ``few_attempts``, ``few_questions``, ``no_spread``
    #: or ``mixed_lengths``.
    reliability_missing: str | None
    sem: float | None
    distribution: list[int]

    @property
    def few_attempts(self) -> bool:
        return self.attempts < itemstats.MIN_ATTEMPTS

    @property
    def band(self) -> str | None:
        return itemstats.reliability_band(self.reliability)


@dataclass(frozen=True)
class ItemRow:
    number: int
    question: dict[str, Any]
    figures: ItemFigures
    answers: list[AnswerCount]
    unanswered: int


@dataclass(frozen=True)
class ModuleResults:
    module: Module
    version: ModuleVersion
    versions: list[VersionChoice]
    within: Scope
    headline: Headline
    test: TestFigures
    items: list[ItemRow]

    @property
    def flagged(self) -> int:
        return sum(1 for item in self.items if item.figures.flags)


def find_module(module_id: str) -> Module | None:
    """The module with ``module_id`` that has a loaded version; else None."""
    if not module_id or len(module_id) > 64:
        return None
    module = db.session.get(Module, module_id)
    return module if module is not None and module.current_version_id is not None else None


def _versions(module: Module, headlines: dict[int, Any]) -> list[VersionChoice]:
    """The current version and every version with attempts in scope, newest first."""
    rows = db.session.execute(
        sa.select(ModuleVersion.id, ModuleVersion.label, ModuleVersion.loaded_at)
        .where(ModuleVersion.module_id == module.id)
        .order_by(ModuleVersion.loaded_at.desc(), ModuleVersion.id.desc())
    )
    return [
        VersionChoice(
            row.id,
            row.label,
            row.loaded_at,
            row.id == module.current_version_id,
            int(headlines[row.id].attempts) if row.id in headlines else 0,
        )
        for row in rows
        if row.id in headlines or row.id == module.current_version_id
    ]


def _headline(row) -> Headline:
    if row is None:
        return Headline()
    return Headline(
        attempts=int(row.attempts),
        learners=int(row.learners),
        passed=int(row.passed),
        learners_passed=int(row.learners_passed),
        mean_score=_float(row.mean_score),
        mean_seconds=_float(row.seconds),
    )


def module_results(module: Module, within: Scope, version_id: int | None = None) -> ModuleResults:
    """The results of ``module`` in ``within``: of ``version_id`` when that is one of its
    versions with attempts, else of the current version (a fixed number of queries)."""
    by_version = queries.totals(
        within, Attempt.version_id, Attempt.module_id == module.id, learners_passed=True
    )
    headlines = {row.key: row for row in db.session.execute(by_version)}
    versions = _versions(module, headlines)
    chosen = next((v.id for v in versions if v.id == version_id), module.current_version_id)
    if chosen == module.current_version_id:
        version = module.current_version
    else:
        version = db.session.get(ModuleVersion, chosen)
    found = headlines.get(version.id)
    prints = queries.fingerprint(found.attempts, found.ids, found.latest) if found else None
    test, counts, figures = _details(within, version.id, prints)
    return ModuleResults(
        module=module,
        version=version,
        versions=versions,
        within=within,
        headline=_headline(headlines.get(version.id)),
        test=test,
        items=_items(version, figures, counts),
    )


def _details(within: Scope, version_id: int, fingerprint: queries.Fingerprint | None):
    """(test figures, response counts, item figures) of one version, cached."""
    key = ("details", version_id, within.key)
    cached = figure_cache().get(key, fingerprint)
    if cached is not None:
        return cached
    if fingerprint is None:
        found = (_test_figures([], [], []), {}, {})
        figure_cache().put(key, fingerprint, found)
        return found
    ids = queries.first_attempt_ids(within, Attempt.version_id == version_id)
    first = queries.first_attempts(list(db.session.scalars(ids)))
    figures = _item_figures(within, {version_id: fingerprint}, first)[version_id].items
    scores = queries.first_scores(first)
    positions = queries.position_moments(first)
    counts = queries.response_counts(first)
    test = _test_figures(scores, [f.moments for f in figures.values()], positions)
    found = (test, counts, figures)
    figure_cache().put(key, fingerprint, found)
    return found


def _items(
    version: ModuleVersion,
    figures: dict[str, ItemFigures],
    counts: dict[str, list[tuple[str | None, int]]],
) -> list[ItemRow]:
    rows = []
    for number, question in enumerate(version.questions, start=1):
        found = figures.get(question["id"], NOT_DRAWN)
        given = [(decode(text), count) for text, count in counts.get(question["id"], [])]
        answers, unanswered = summarise_answers(question, given, found.drawn)
        rows.append(ItemRow(number, question, found, answers, unanswered))
    return rows


def _test_figures(
    scores: list[tuple[float, float]],
    items: list[itemstats.Moments],
    positions: list[itemstats.Moments],
) -> TestFigures:
    scaled = [share for _total, share in scores]
    totals = itemstats.Moments.of(total for total, _share in scores)
    sd = itemstats.standard_deviation(scaled)
    reliability, kind, basis, missing = _reliability(len(scores), totals, items, positions)
    return TestFigures(
        attempts=len(scores),
        mean=itemstats.mean(scaled),
        median=itemstats.median(scaled),
        sd=sd,
        reliability=reliability,
        reliability_kind=kind,
        reliability_basis=basis,
        reliability_missing=missing,
        sem=itemstats.standard_error(sd, reliability),
        distribution=itemstats.score_bins(scaled),
    )


def _reliability(
    attempts: int,
    totals: itemstats.Moments,
    items: list[itemstats.Moments],
    positions: list[itemstats.Moments],
) -> tuple[float | None, str | None, str | None, str | None]:
    """(value, kind, basis, why missing) of the first attempts' reliability."""
    if attempts < 2:
        return None, None, None, "few_attempts"
    drawn = [m for m in items if m.n]
    if drawn and all(m.n == attempts for m in drawn):
        basis, columns = "questions", drawn
    elif positions and all(m.n == attempts for m in positions):
        basis, columns = "positions", positions
    else:
        return None, None, None, "mixed_lengths"
    if len(columns) < 2:
        return None, None, None, "few_questions"
    value = itemstats.reliability([m.variance() or 0.0 for m in columns], totals.variance())
    if value is None:
        return None, None, None, "no_spread"
    kind = "kr20" if all(m.is_dichotomous for m in columns) else "alpha"
    return value, kind, basis, None
