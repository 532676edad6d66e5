"""The matrix's module statuses computed by the database, for filtering and sorting
thousands of learners without loading their records.

``cells.module_cell`` (the progress feature's rules) stays the reference: it gives the
cells of the page shown. This is the same rule written as one SQL expression over
aggregates per learner and module, so that "who is failed in any module" or "sort by
status in GMP fundamentals" costs one query however many learners match.
``tests/dashboard/test_statuses.py`` holds the two to the same answers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from lms.auth.models import User
from lms.catalog.models import Enrolment, Lesson, LessonRead, Module
from lms.dashboard.batch import Columns
from lms.db_types import UTCDateTime
from lms.extensions import db
from lms.progress.models import Qualification
from lms.progress.rules import EXPIRY_WARNING
from lms.quiz.models import Attempt

A, E, L, M, Q, R = Attempt, Enrolment, Lesson, Module, Qualification, LessonRead


def _in(column, learners: sa.Select, module_ids: list[str] | sa.Select, module_column):
    return sa.and_(column.in_(learners), module_column.in_(module_ids))


def _wanted(loaded: Columns, module_ids: list[str] | None) -> list[str] | sa.Select:
    """The modules to read records of: ``module_ids``, or every module with a loaded
    version (``loaded.modules``) as a select rather than a list of a hundred ids, each
    record's module compared with every one of them."""
    if module_ids is not None:
        return [m.id for m in loaded.modules if m.id in module_ids]
    return sa.select(M.id).where(M.current_version_id.is_not(None))


#: Statuses that need a quiz attempt or a qualification: lesson reads and enrolments
#: cannot change whether a cell has one of them, so they are not read.
NEEDS_RESULTS = frozenset({"passed", "expiring", "expired", "failed", "locked"})


def _keys(*parts) -> sa.Subquery:
    """Every (learner, module) listed in one of ``parts`` (selects or CTEs of pairs)."""
    selects = [
        part if isinstance(part, sa.Select) else sa.select(part.c.user_id, part.c.module_id)
        for part in parts
    ]
    return sa.union(*selects).subquery("keys")


def _reads(learners: sa.Select, module_ids, settled: sa.Select) -> sa.CTE:
    """Lessons of the current version read, per learner and module, for the pairs not
    ``settled`` (those whose status a qualification or an attempt decides already: most
    reads belong to them, and counting them would be wasted)."""
    read = (
        sa.select(R.user_id, R.module_id, R.lesson_slug)
        .where(_in(R.user_id, learners, module_ids, R.module_id))
        .where(sa.tuple_(R.user_id, R.module_id).not_in(settled))
        .distinct()
        .subquery("read")
    )
    current = sa.select(M.id, L.slug).join(L, L.version_id == M.current_version_id).subquery()
    return (
        sa.select(read.c.user_id, read.c.module_id, sa.func.count().label("n"))
        .join(
            current, sa.and_(current.c.id == read.c.module_id, current.c.slug == read.c.lesson_slug)
        )
        .group_by(read.c.user_id, read.c.module_id)
        .cte("reads")
    )


def _attempts(learners: sa.Select, module_ids) -> sa.CTE:
    """Per learner and module: the last submission, the last pass, the failures since
    that pass (the current cycle of ``quiz.rules.attempt_window``), an open attempt."""
    submitted = A.state == "submitted"
    passed = sa.and_(submitted, A.passed.is_(True))
    pair = (A.user_id, A.module_id)
    rows = (
        sa.select(
            A.user_id,
            A.module_id,
            A.state,
            A.submitted_at,
            A.score_scaled.label("score"),
            passed.label("passed"),
            sa.func.max(sa.case((passed, A.submitted_at))).over(partition_by=pair).label("pass_at"),
        )
        .where(_in(A.user_id, learners, module_ids, A.module_id))
        .subquery("rows")
    )
    failed = sa.and_(
        rows.c.state == "submitted",
        sa.not_(rows.c.passed),
        sa.or_(rows.c.pass_at.is_(None), rows.c.submitted_at > rows.c.pass_at),
    )
    return (
        sa.select(
            rows.c.user_id,
            rows.c.module_id,
            sa.func.max(sa.case((rows.c.state == "submitted", rows.c.submitted_at))).label(
                "last_at"
            ),
            sa.func.max(rows.c.pass_at).label("pass_at"),
            sa.func.sum(sa.case((failed, 1), else_=0)).label("failures"),
            sa.func.max(sa.case((rows.c.state == "open", 1), else_=0)).label("open"),
            sa.func.max(
                sa.case((rows.c.state == "submitted", sa.func.coalesce(rows.c.score, 0.0)))
            ).label("best"),
        )
        .group_by(rows.c.user_id, rows.c.module_id)
        .cte("attempts")
    )


def _current(learners: sa.Select, module_ids) -> sa.CTE:
    """The current qualification's end, per learner and module (``qualifications``)."""
    corrected = sa.select(Q.corrects_id).where(Q.corrects_id.is_not(None))
    newest = (
        sa.select(sa.func.max(Q.id))
        .where(_in(Q.user_id, learners, module_ids, Q.module_id), Q.id.not_in(corrected))
        .group_by(Q.user_id, Q.module_id)
    )
    return sa.select(Q.user_id, Q.module_id, Q.valid_until).where(Q.id.in_(newest)).cte("current")


def _settings(values: dict[str, tuple]) -> sa.Subquery:
    """A table of ``(module_id, total, maximum, cooldown_since)`` (lessons of the current
    version, attempts allowed, start of a cooldown running now): one row per module,
    joined to the pairs rather than looked up in a ``CASE`` of every module per pair."""
    rows = [
        sa.select(
            sa.literal(module_id, sa.String).label("module_id"),
            sa.literal(total, sa.Integer).label("total"),
            sa.literal(maximum, sa.Integer).label("maximum"),
            sa.literal(since, UTCDateTime()).label("cooldown_since"),
        )
        for module_id, (total, maximum, since) in values.items()
    ]
    return sa.union_all(*rows).subquery("settings")


def module_statuses(
    learners: sa.Select,
    loaded: Columns,
    now: datetime,
    module_ids: list[str] | None = None,
    *,
    results_only: bool = False,
    details: bool = False,
) -> sa.Subquery:
    """``(user_id, module_id, status)`` of every learner of ``learners`` (a select of user
    ids) and module with a record; absent pairs are ``not_started``. The status is
    ``cells.module_cell``'s.

    With ``results_only`` only pairs with an attempt or a qualification are listed and
    reads are not looked at: exact for the statuses of ``NEEDS_RESULTS`` only. With
    ``details``, also ``best`` (best score) and ``valid_until`` (of the current
    qualification), as ``cells.Cell`` has them.
    """
    modules = [m for m in loaded.modules if module_ids is None or m.id in module_ids]
    ids = _wanted(loaded, module_ids)
    attempts, current = _attempts(learners, ids), _current(learners, ids)
    last_failed = sa.and_(
        attempts.c.last_at.is_not(None),
        sa.or_(attempts.c.pass_at.is_(None), attempts.c.pass_at < attempts.c.last_at),
    )
    is_open = sa.func.coalesce(attempts.c.open, 0) == 1
    settled = sa.union(
        sa.select(attempts.c.user_id, attempts.c.module_id).where(sa.or_(is_open, last_failed)),
        sa.select(current.c.user_id, current.c.module_id),
    )
    reads = None if results_only else _reads(learners, ids, settled)
    #: The pairs with a record. Reads without an enrolment, attempt or qualification
    #: count only when they are of current lessons (``reads``); others leave a cell
    #: ``not_started``, as an absent pair does.
    if reads is None:
        keys = _keys(attempts, current)
    else:
        enrolments = sa.select(E.user_id, E.module_id).where(
            _in(E.user_id, learners, ids, E.module_id)
        )
        keys = _keys(enrolments, attempts, current, reads)
    values = {}
    for module in modules:
        quiz = module.current_version.quiz_settings
        minutes = quiz.get("cooldown_minutes")
        since = now - timedelta(minutes=minutes) if minutes else None
        values[module.id] = (len(loaded.lessons[module.id]), quiz.get("max_attempts"), since)
    table = _settings(values) if values else None
    total = sa.literal(0) if table is None else sa.func.coalesce(table.c.total, 0)
    limited = any(maximum is not None for _total, maximum, _since in values.values())
    cooling = any(since is not None for _total, _maximum, since in values.values())
    maximum = table.c.maximum if limited else None
    cooldown_since = table.c.cooldown_since if cooling else None
    #: A failed last attempt locks the module: no attempts left, or the cooldown runs.
    locked = []
    if maximum is not None:
        locked.append((sa.and_(maximum.is_not(None), attempts.c.failures >= maximum), "locked"))
    if cooldown_since is not None:
        cooling_now = sa.and_(cooldown_since.is_not(None), attempts.c.last_at > cooldown_since)
        locked.append((cooling_now, "locked"))
    read = sa.literal(0) if reads is None else sa.func.coalesce(reads.c.n, 0)
    enrolled = sa.exists(
        sa.select(E.id).where(E.user_id == keys.c.user_id, E.module_id == keys.c.module_id)
    )
    until = current.c.valid_until
    status = sa.case(
        (
            sa.and_(until.is_not(None), until > sa.literal(now, UTCDateTime())),
            sa.case(
                (until <= sa.literal(now + EXPIRY_WARNING, UTCDateTime()), "expiring"),
                else_="passed",
            ),
        ),
        (
            sa.and_(last_failed, sa.not_(is_open)),
            sa.case(*locked, else_="failed") if locked else sa.literal("failed"),
        ),
        (until.is_not(None), "expired"),
        (is_open, "in_progress"),
        (sa.and_(total > 0, read >= total), "completed"),
        (sa.or_(enrolled, read > 0), "in_progress"),
        else_="not_started",
    )

    def on(part):
        return sa.and_(part.c.user_id == keys.c.user_id, part.c.module_id == keys.c.module_id)

    query = sa.select(keys.c.user_id, keys.c.module_id, status.label("status"))
    if details:
        query = query.add_columns(attempts.c.best, until.label("valid_until"))
    if reads is not None:
        query = query.outerjoin(reads, on(reads))
    query = query.outerjoin(attempts, on(attempts)).outerjoin(current, on(current))
    if table is not None:
        query = query.outerjoin(table, table.c.module_id == keys.c.module_id)
    return query.subquery("statuses")


def learners_with(learners: sa.Select, loaded: Columns, now: datetime, status: str) -> sa.Select:
    """Ids of the learners of ``learners`` with ``status`` in at least one module (any
    status but ``not_started``: see ``fully_started``)."""
    if not loaded.modules or status == "not_started":
        raise ValueError("not_started: use fully_started")
    if status in ("passed", "expiring"):
        #: The first rule: a valid current qualification decides, nothing else counts.
        current = _current(learners, _wanted(loaded, None))
        soon = sa.literal(now + EXPIRY_WARNING, UTCDateTime())
        window = (
            current.c.valid_until <= soon if status == "expiring" else current.c.valid_until > soon
        )
        return (
            sa.select(current.c.user_id)
            .where(current.c.valid_until > sa.literal(now, UTCDateTime()), window)
            .distinct()
        )
    found = module_statuses(learners, loaded, now, results_only=status in NEEDS_RESULTS)
    return sa.select(found.c.user_id).where(found.c.status == status).distinct()


def fully_started(learners: sa.Select, loaded: Columns, now: datetime) -> set[int]:
    """Ids of the learners of ``learners`` with no module ``not_started`` (usually none:
    only a learner with a record in every module can be one, so only those are looked
    at closely)."""
    modules, ids = len(loaded.modules), _wanted(loaded, None)
    keys = _keys(
        *(
            sa.select(model.user_id, model.module_id).where(
                _in(model.user_id, learners, ids, model.module_id)
            )
            for model in (E, R, A, Q)
        )
    )
    everywhere = sorted(
        db.session.scalars(
            sa.select(keys.c.user_id).group_by(keys.c.user_id).having(sa.func.count() >= modules)
        )
    )
    if not everywhere:
        return set()
    found = module_statuses(sa.select(User.id).where(User.id.in_(everywhere)), loaded, now)
    started = (
        sa.select(found.c.user_id)
        .where(found.c.status != "not_started")
        .group_by(found.c.user_id)
        .having(sa.func.count() >= modules)
    )
    return set(db.session.scalars(started))
