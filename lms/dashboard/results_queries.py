"""The SQL of the results pages: counts and sums grouped in the database.

Reads only. Each function sends one or two queries, whatever the number of learners;
the attempts counted are the learners' in a :class:`Scope` (see ``results`` for which
attempts each figure uses). Works on PostgreSQL and SQLite: the two differences (JSON
arrays and time differences) are in :func:`_drawn_questions` and :func:`seconds`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lms.auth.models import User
from lms.catalog.models import Module
from lms.dashboard import itemstats
from lms.dashboard.models import Cohort, CohortMember
from lms.extensions import db
from lms.quiz.grading import QUESTION_MAX
from lms.quiz.models import Attempt, AttemptAnswer

#: A fingerprint of the submitted attempts behind a version's figures: count, sum of
#: ids, and the greatest public id (random, so never the same for different attempts).
Fingerprint = tuple[int, int, str]


@dataclass(frozen=True)
class Scope:
    """Whose attempts count: organisations (None: all) and an optional cohort."""

    org_ids: list[int] | None
    #: The organisation a centre admin picked (None: all, or not a centre admin).
    organisation: int | None = None
    cohort: Cohort | None = None

    def args(self) -> dict[str, Any]:
        """The scope as query-string arguments, for links and exports."""
        found: dict[str, Any] = {}
        if self.organisation:
            found["organisation"] = self.organisation
        if self.cohort is not None:
            found["cohort"] = self.cohort.public_id
        return found

    @property
    def key(self) -> tuple:
        orgs = None if self.org_ids is None else tuple(sorted(self.org_ids))
        return (orgs, None if self.cohort is None else self.cohort.id)


def submitted(within: Scope) -> list[sa.ColumnElement[bool]]:
    """Conditions on ``Attempt`` joined to ``User``: submitted, by a learner in scope."""
    conditions = [Attempt.state == "submitted", User.role == "learner"]
    if within.org_ids is not None:
        conditions.append(User.organisation_id.in_(within.org_ids))
    if within.cohort is not None:
        members = sa.select(CohortMember.user_id).where(CohortMember.cohort_id == within.cohort.id)
        conditions.append(User.id.in_(members))
    return conditions


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def seconds(start, end) -> sa.ColumnElement[float]:
    """``end - start`` in seconds, on either engine."""
    if _dialect() == "postgresql":
        return sa.func.date_part("epoch", end - start)  # a float, faster than extract()
    return (sa.func.julianday(end) - sa.func.julianday(start)) * 86400.0


def passed_count(column) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((column.is_(True), 1), else_=0)), 0)


# Totals over every submitted attempt -------------------------------------------------


def totals(
    within: Scope, key, *conditions, current: bool = False, learners_passed: bool = False
) -> sa.Select:
    """Attempts, learners, passes, mean score, mean seconds, and the sum of ids and
    greatest public id (see :func:`fingerprint`) of the submitted attempts in
    ``within``, grouped by ``key`` (a column of ``Attempt``).

    With ``learners_passed``, also how many learners passed. With ``current``, also
    ``current_attempts``, ``current_ids`` and ``current_latest``: the same of the
    attempts at their module's current version.
    """
    columns = [
        key.label("key"),
        sa.func.count().label("attempts"),
        sa.func.count(sa.distinct(Attempt.user_id)).label("learners"),
        passed_count(Attempt.passed).label("passed"),
        sa.func.avg(Attempt.score_scaled).label("mean_score"),
        sa.func.avg(seconds(Attempt.started_at, Attempt.submitted_at)).label("seconds"),
        sa.func.sum(Attempt.id).label("ids"),
        sa.func.max(Attempt.public_id).label("latest"),
    ]
    if learners_passed:
        passed_learner = sa.case((Attempt.passed.is_(True), Attempt.user_id), else_=None)
        columns.append(sa.func.count(sa.distinct(passed_learner)).label("learners_passed"))
    query = sa.select().select_from(Attempt).join(User, User.id == Attempt.user_id)
    if current:
        at_current = Attempt.version_id == Module.current_version_id
        query = query.join(Module, Module.id == Attempt.module_id)

        def when(value, otherwise=None):
            return sa.case((at_current, value), else_=otherwise)

        columns += [
            sa.func.sum(when(1, 0)).label("current_attempts"),
            sa.func.sum(when(Attempt.id, 0)).label("current_ids"),
            sa.func.max(when(Attempt.public_id)).label("current_latest"),
        ]
    return query.add_columns(*columns).where(*submitted(within), *conditions).group_by(key)


def fingerprint(attempts, ids, latest) -> Fingerprint | None:
    """The fingerprint of a set of submitted attempts from their count, the sum of their
    ids and their greatest public id; None for no attempt. It changes whenever an
    attempt is submitted or a learner enters or leaves the scope; submitted attempts and
    their answers never change, so figures computed under the same fingerprint hold."""
    if not attempts:
        return None
    return (int(attempts), int(ids), str(latest))


# First attempts and the questions drawn in them --------------------------------------


def first_attempt_ids(within: Scope, *conditions) -> sa.Select:
    """The id of each learner's first submitted attempt per version (``conditions`` on
    ``Attempt`` choose the versions)."""
    return (
        sa.select(sa.func.min(Attempt.id))
        .join(User, User.id == Attempt.user_id)
        .where(*submitted(within), *conditions)
        .group_by(Attempt.user_id, Attempt.version_id)
    )


def first_attempts(ids: sa.Select | list[int]) -> sa.CTE:
    """The first attempts ``ids`` (a query of them, or the ids themselves, written into
    the statement: one version's are few, and the database then reads them by key):
    id, version, total, scaled score, number of questions drawn, how many first attempts
    the version has, and ``upper``/``lower`` (1 or 0): whether it is among the best or
    the weakest 27 % of them by total (ties: the earlier attempt ranks higher, as in
    ``itemstats.upper_lower_groups``)."""
    if isinstance(ids, list):
        ids = sa.bindparam("first_ids", ids, expanding=True, literal_execute=True)
    total = sa.func.coalesce(Attempt.score_raw, 0.0)
    by_version = {"partition_by": Attempt.version_id}
    ranked = (
        sa.select(
            Attempt.id,
            Attempt.version_id,
            total.label("total"),
            sa.func.coalesce(Attempt.score_scaled, 0.0).label("scaled"),
            #: Every question is worth ``QUESTION_MAX``, so the maximum counts them.
            sa.func.coalesce(Attempt.score_max / QUESTION_MAX, 0).label("questions"),
            sa.func.count().over(**by_version).label("attempts"),
            sa.func.row_number()
            .over(**by_version, order_by=(total.desc(), Attempt.id))
            .label("rank_high"),
            sa.func.row_number()
            .over(**by_version, order_by=(total, Attempt.id.desc()))
            .label("rank_low"),
        )
        .where(Attempt.id.in_(ids))
        .subquery("ranked")
    )
    size = ranked.c.attempts * itemstats.GROUP_SHARE + 0.5

    def among(rank):
        return sa.and_(ranked.c.attempts >= 2, sa.or_(rank == 1, rank <= size))

    upper = sa.case((among(ranked.c.rank_high), 1), else_=0)
    lower = sa.case((among(ranked.c.rank_high), 0), (among(ranked.c.rank_low), 1), else_=0)
    return sa.select(
        ranked.c.id,
        ranked.c.version_id,
        ranked.c.total,
        ranked.c.scaled,
        ranked.c.questions,
        ranked.c.attempts,
        upper.label("upper"),
        lower.label("lower"),
    ).cte("first_attempt")


def _drawn_questions(attempts):
    """(``attempts`` joined to the entries of their draws, question id, position)."""
    attempt = sa.orm.aliased(Attempt, name="drawn_attempt")
    if _dialect() == "postgresql":
        item = (
            sa.func.json_array_elements(attempt.draw)
            .table_valued("value", with_ordinality="position")
            .render_derived("item")
        )
        question_id = item.c.value.op("->>")(sa.literal_column("'id'"))
        position = item.c.position
    else:
        item = sa.func.json_each(attempt.draw).table_valued("key", "value").alias("item")
        question_id = sa.func.json_extract(item.c.value, "$.id")
        position = item.c.key
    joined = attempts.join(attempt, attempt.id == attempts.c.id).join(item, sa.true())
    return joined, question_id, position


def scored(first: sa.CTE) -> sa.Subquery:
    """One row per question drawn in a first attempt: attempt, position and score ``x``
    (0 for a question never answered). For one version's positions; it reads every
    draw, so :func:`item_figures` avoids it."""
    joined, question_id, position = _drawn_questions(first)
    drawn = (
        sa.select(
            first.c.id.label("attempt_id"),
            question_id.label("question_id"),
            position.label("position"),
        )
        .select_from(joined)
        .subquery("drawn")
    )
    answered = (
        sa.select(AttemptAnswer.attempt_id, AttemptAnswer.question_id, AttemptAnswer.score)
        .join(first, first.c.id == AttemptAnswer.attempt_id)
        .subquery("answered")
    )
    return (
        sa.select(drawn, sa.func.coalesce(answered.c.score, 0.0).label("x"))
        .select_from(drawn)
        .outerjoin(
            answered,
            sa.and_(
                answered.c.attempt_id == drawn.c.attempt_id,
                answered.c.question_id == drawn.c.question_id,
            ),
        )
        .subquery("scored")
    )


# Per question ------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemFigures:
    """The statistics of one question over the first attempts that drew it."""

    drawn: int
    facility: float | None
    #: The corrected point-biserial (item-rest correlation).
    discrimination: float | None
    #: Facility in the best and in the weakest 27 % of the first attempts.
    upper: float | None
    lower: float | None
    moments: itemstats.Moments

    @property
    def index(self) -> float | None:
        if self.upper is None or self.lower is None:
            return None
        return self.upper - self.lower

    @property
    def flags(self) -> tuple[str, ...]:
        return itemstats.flags(self.facility, self.discrimination)


NOT_DRAWN = ItemFigures(0, None, None, None, None, itemstats.Moments())


#: The sums of one question that :func:`item_figures` adds up.
_SUMS = ("n", "sx", "sxx", "st", "stt", "sxt", "n_upper", "sx_upper", "n_lower", "sx_lower")


def _figures(sums: dict[str, float]) -> ItemFigures:
    n = int(sums["n"])
    pairs = itemstats.CoMoments.item_rest(
        n, sums["sx"], sums["sxx"], sums["st"], sums["stt"], sums["sxt"]
    )
    upper = itemstats.Moments(int(sums["n_upper"]), sums["sx_upper"])
    lower = itemstats.Moments(int(sums["n_lower"]), sums["sx_lower"])
    return ItemFigures(
        drawn=n,
        facility=sums["sx"] / n if n else None,
        discrimination=itemstats.correlation(pairs),
        upper=upper.mean,
        lower=lower.mean,
        moments=itemstats.Moments(n, sums["sx"], sums["sxx"]),
    )


def _answered_sums(first: sa.CTE) -> sa.Select:
    """Per version and question, sums over the saved answers of the first attempts."""
    x = sa.func.coalesce(AttemptAnswer.score, 0.0)
    t = first.c.total
    return (
        sa.select(
            first.c.version_id,
            AttemptAnswer.question_id,
            sa.func.max(first.c.attempts),
            sa.func.count(),
            sa.func.sum(x),
            sa.func.sum(x * x),
            sa.func.sum(t),
            sa.func.sum(t * t),
            sa.func.sum(x * t),
            sa.func.sum(first.c.upper),
            sa.func.sum(x * first.c.upper),
            sa.func.sum(first.c.lower),
            sa.func.sum(x * first.c.lower),
        )
        .join(first, first.c.id == AttemptAnswer.attempt_id)
        .group_by(first.c.version_id, AttemptAnswer.question_id)
    )


def _unanswered_sums(first: sa.CTE) -> sa.Select:
    """Per version and question, sums over the questions drawn in a first attempt but
    never saved (score 0). Only attempts with fewer saved answers than questions are
    read, so few draws are opened."""
    saved = (
        sa.select(sa.func.count())
        .where(AttemptAnswer.attempt_id == first.c.id)
        .correlate(first)
        .scalar_subquery()
    )
    short = sa.select(first).where(first.c.questions > saved).subquery("short")
    joined, question_id, _position = _drawn_questions(short)
    answer = sa.orm.aliased(AttemptAnswer, name="saved_answer")
    # A count rather than NOT EXISTS: the database then looks each answer up by key
    # instead of reading every saved answer (it cannot tell how few drawn rows there are).
    rows_saved = (
        sa.select(sa.func.count())
        .where(answer.attempt_id == short.c.id, answer.question_id == question_id)
        .scalar_subquery()
    )
    t = short.c.total

    def zero(name: str):
        return sa.literal(0.0).label(name)

    return (
        sa.select(
            short.c.version_id,
            question_id,
            sa.func.max(short.c.attempts),
            sa.func.count(),
            zero("sx"),
            zero("sxx"),
            sa.func.sum(t),
            sa.func.sum(t * t),
            zero("sxt"),
            sa.func.sum(short.c.upper),
            zero("sx_upper"),
            sa.func.sum(short.c.lower),
            zero("sx_lower"),
        )
        .select_from(joined)
        .where(rows_saved == 0)
        .group_by(short.c.version_id, question_id)
    )


@dataclass(frozen=True)
class VersionFigures:
    """A version's number of first attempts and its questions' figures (by id)."""

    first_attempts: int = 0
    items: dict[str, ItemFigures] = field(default_factory=dict)


def item_figures(first: sa.CTE) -> dict[int, VersionFigures]:
    """Version id -> the figures of its questions over the ``first`` attempts (2
    queries: the saved answers, then the questions drawn but never answered)."""
    sums: dict[tuple[int, str], dict[str, float]] = {}
    attempts: dict[int, int] = defaultdict(int)
    for query in (_answered_sums(first), _unanswered_sums(first)):
        for version_id, question_id, count, *values in db.session.execute(query):
            attempts[version_id] = max(attempts[version_id], int(count))
            found = sums.setdefault((version_id, question_id), dict.fromkeys(_SUMS, 0.0))
            for name, value in zip(_SUMS, values, strict=True):
                found[name] += float(value or 0)
    items: dict[int, dict[str, ItemFigures]] = defaultdict(dict)
    for (version_id, question_id), found in sums.items():
        items[version_id][question_id] = _figures(found)
    return {version: VersionFigures(attempts[version], items[version]) for version in attempts}


# One version's details ---------------------------------------------------------------


def first_scores(first: sa.CTE) -> list[tuple[float, float]]:
    """(total, scaled score) of each first attempt."""
    return [
        (float(t), float(s))
        for t, s in db.session.execute(sa.select(first.c.total, first.c.scaled))
    ]


def position_moments(first: sa.CTE) -> list[itemstats.Moments]:
    """The scores at each position of the quiz (1st question shown, 2nd, ...)."""
    rows = scored(first)
    query = sa.select(
        sa.func.count(), sa.func.sum(rows.c.x), sa.func.sum(rows.c.x * rows.c.x)
    ).group_by(rows.c.position)
    return [
        itemstats.Moments(int(n), float(sx or 0), float(sxx or 0))
        for n, sx, sxx in db.session.execute(query)
    ]


def response_counts(first: sa.CTE) -> dict[str, list[tuple[str | None, int]]]:
    """Question id -> (stored response as JSON text, how many first attempts gave it)."""
    text = sa.cast(AttemptAnswer.response, sa.Text)
    rows = db.session.execute(
        sa.select(AttemptAnswer.question_id, text, sa.func.count())
        .join(first, first.c.id == AttemptAnswer.attempt_id)
        .group_by(AttemptAnswer.question_id, text)
    )
    counts: dict[str, list[tuple[str | None, int]]] = defaultdict(list)
    for question_id, response, count in rows:
        counts[question_id].append((response, int(count)))
    return counts
