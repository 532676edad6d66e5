"""The progress matrix: learners x modules and practical types, filtered, sorted, paged.

Reads only: the learners of one page (or, when filtering or sorting by status, of the
whole filtered set) are loaded together with all their records in a fixed number of
queries (``batch``), then turned into cells by the pure rules of ``cells``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lms.auth.models import LEARNER_CATEGORIES, SECTORS, User
from lms.dashboard import batch, cohorts, scope, statuses
from lms.dashboard.cells import CELL_STATUSES, Cell, attention_rank, module_cell, practical_cell
from lms.dashboard.models import Cohort, CohortMember
from lms.extensions import db

PAGE_SIZE = 50
#: The cell of a learner with no record in a module or practical type.
NOT_STARTED = Cell("not_started")


class UnknownCohort(LookupError):
    """The cohort asked for does not exist or belongs to another organisation."""


@dataclass(frozen=True)
class Filters:
    """The matrix's filters, as read from a query string (bad values are dropped)."""

    organisation: int | None = None
    cohort: str = ""
    category: str = ""
    sector: str = ""
    status: str = ""
    #: The column the status filter applies to (``module:<id>``/``practical:<id>``);
    #: empty: any column.
    column: str = ""
    #: ``name``, or a column key to sort by that column's status (attention first).
    sort: str = "name"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> Filters:
        def text(name: str, allowed=None) -> str:
            value = (args.get(name) or "").strip()[:140]
            return value if allowed is None or value in allowed else ""

        return cls(
            organisation=_integer(args.get("organisation")),
            cohort=text("cohort")[:36],
            category=text("category", LEARNER_CATEGORIES),
            sector=text("sector", SECTORS),
            status=text("status", CELL_STATUSES),
            column=text("column"),
            sort=text("sort") or "name",
            page=max(_integer(args.get("page")) or 1, 1),
        )

    def args(self, **changes: Any) -> dict[str, Any]:
        """The filters as query-string arguments (defaults left out), with ``changes``."""
        values = {**self.__dict__, **changes}
        defaults = Filters().__dict__
        return {k: v for k, v in values.items() if v not in (None, "") and v != defaults[k]}

    @property
    def by_status(self) -> bool:
        return bool(self.status) or self.sort != "name"


def _integer(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


@dataclass(frozen=True)
class Column:
    key: str
    kind: str
    title: dict[str, str]


@dataclass
class Row:
    learner: User
    cells: dict[str, Cell]


@dataclass
class Matrix:
    filters: Filters
    columns: list[Column]
    #: A list for a page; for an export (``paginate=False``), an iterator that reads
    #: the statuses from the database when first advanced.
    rows: Iterable[Row]
    total: int
    cohort: Cohort | None = None
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(math.ceil(self.total / PAGE_SIZE), 1)

    @property
    def not_started(self) -> Cell:
        """The cell of every learner without any record in a column (one object)."""
        return NOT_STARTED

    def segments(self, row: Row) -> list[tuple]:
        """``row``'s cells for the page: ``("blank", i, j)`` for columns ``i`` to ``j - 1``
        all ``not_started`` without a record (most of a row, drawn as one piece), else
        ``("cell", column, cell)``."""
        found: list[tuple] = []
        start = None
        for index, column in enumerate(self.columns):
            cell = row.cells[column.key]
            if cell is NOT_STARTED:
                start = index if start is None else start
                continue
            if start is not None:
                found.append(("blank", start, index))
                start = None
            found.append(("cell", column, cell))
        if start is not None:
            found.append(("blank", start, len(self.columns)))
        return found


def _columns(loaded: batch.Columns) -> list[Column]:
    modules = [Column(f"module:{m.id}", "module", m.current_version.title) for m in loaded.modules]
    types = [Column(f"practical:{t.id}", "practical", t.title) for t in loaded.practical_types]
    return modules + types


def learner_query(actor: User, filters: Filters, cohort: Cohort | None) -> sa.Select:
    """The active learners ``actor`` may see that match the filters, by name."""
    org_ids = scope.organisation_ids(actor, filters.organisation)
    query = scope.restrict(
        sa.select(User).where(User.role == "learner", User.active.is_(True)),
        User.organisation_id,
        org_ids,
    )
    if cohort is not None:
        members = sa.select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)
        query = query.where(User.id.in_(members))
    if filters.category:
        query = query.where(User.learner_category == filters.category)
    if filters.sector:
        query = query.where(User.sector == filters.sector)
    return query.order_by(User.display_name, User.id)


def resolve_cohort(actor: User, filters: Filters) -> Cohort | None:
    """The filter's cohort; raises ``UnknownCohort`` for one ``actor`` may not see."""
    if not filters.cohort:
        return None
    cohort = cohorts.find_cohort(actor, filters.cohort)
    if cohort is None:
        raise UnknownCohort(filters.cohort)
    return cohort


def _rows(learners: list[User], loaded: batch.Columns, now: datetime) -> list[Row]:
    records = batch.learner_records([learner.id for learner in learners])
    #: Per module id: its column key, lessons and quiz settings, read once for the page.
    modules = {
        m.id: (f"module:{m.id}", loaded.lessons[m.id], m.current_version.quiz_settings)
        for m in loaded.modules
    }
    types = {t.id: f"practical:{t.id}" for t in loaded.practical_types}
    #: Every cell not started, in column order; a learner's records replace theirs.
    blank = dict.fromkeys([key for key, _lessons, _settings in modules.values()], NOT_STARTED)
    blank.update(dict.fromkeys(types.values(), NOT_STARTED))
    by_learner: dict[int, dict[str, Cell]] = {}
    for (learner_id, module_id), found in records.modules.items():
        if module_id in modules:
            key, lessons, settings = modules[module_id]
            cells = by_learner.setdefault(learner_id, {})
            cells[key] = module_cell(found, lessons, settings, now)
    for learner_id, type_id in {*records.outcomes, *records.booked}:
        if type_id in types:
            outcome = records.outcomes.get((learner_id, type_id))
            booked = (learner_id, type_id) in records.booked
            if outcome or booked:
                cell = practical_cell(outcome, booked)
                by_learner.setdefault(learner_id, {})[types[type_id]] = cell
    rows = []
    for learner in learners:
        cells = dict(blank)
        cells.update(by_learner.get(learner.id, ()))
        rows.append(Row(learner, cells))
    return rows


class _Statuses:
    """The statuses the filter or the sort needs, for every learner of the filtered set:
    modules from the database (``statuses``), practical types from their few records."""

    def __init__(self, scope: sa.Select, filters: Filters, loaded: batch.Columns, now) -> None:
        self.filters, self.loaded = filters, loaded
        self.outcomes, self.booked = batch.practical_records(scope)
        self.practical_keys = {key[0] for key in (*self.outcomes, *self.booked)}
        keys = {filters.column if filters.status else "", filters.sort}
        #: (learner id, column key) -> status, for the single columns asked for.
        self.single: dict[tuple[int, str], str] = {}
        for key in keys - {"", "name"}:
            if key.startswith("module:"):
                module_id = key.removeprefix("module:")
                found = statuses.module_statuses(scope, loaded, now, [module_id])
                for user_id, status in db.session.execute(
                    sa.select(found.c.user_id, found.c.status)
                ):
                    self.single[(user_id, key)] = status
        #: Learners with a module cell of the filter's status (any column); for
        #: ``not_started``, the learners without one (every module started).
        self.any: set[int] = set()
        self.started: set[int] = set()
        if filters.status == "not_started" and not filters.column and loaded.modules:
            self.started = statuses.fully_started(scope, loaded, now)
        elif filters.status and not filters.column and loaded.modules:
            found = statuses.learners_with(scope, loaded, now, filters.status)
            self.any = set(db.session.scalars(found))

    def status(self, learner_id: int, key: str) -> str:
        if key.startswith("practical:"):
            pair = (learner_id, key.removeprefix("practical:"))
            outcome, booked = self.outcomes.get(pair), pair in self.booked
            return practical_cell(outcome, booked).status
        return self.single.get((learner_id, key), "not_started")

    def matches(self, learner_id: int) -> bool:
        status = self.filters.status
        if not status:
            return True
        if self.filters.column:
            return self.status(learner_id, self.filters.column) == status
        if status == "not_started":
            in_a_module = bool(self.loaded.modules) and learner_id not in self.started
        else:
            in_a_module = learner_id in self.any
        return in_a_module or self._any_practical(learner_id, status)

    def _any_practical(self, learner_id: int, status: str) -> bool:
        types = self.loaded.practical_types
        if learner_id not in self.practical_keys:
            return status == "not_started" and bool(types)
        return any(self.status(learner_id, f"practical:{t.id}") == status for t in types)

    def rank(self, learner_id: int) -> int:
        return attention_rank(Cell(self.status(learner_id, self.filters.sort)))


def _by_status(query: sa.Select, filters: Filters, loaded: batch.Columns, now) -> list[int]:
    """Ids of the learners of ``query`` whose cells match the status filter, in the
    order shown (by name, or by the sort column's status, attention first)."""
    ids = list(db.session.scalars(query.with_only_columns(User.id)))
    if not ids:
        return []
    found = _Statuses(query.with_only_columns(User.id).order_by(None), filters, loaded, now)
    kept = [learner_id for learner_id in ids if found.matches(learner_id)]
    if filters.sort != "name":
        kept.sort(key=found.rank)
    return kept


def _learners(ids: list[int]) -> list[User]:
    """The users of ``ids`` in that order, with their organisations (one query)."""
    if not ids:
        return []
    query = sa.select(User).where(User.id.in_(ids)).options(sa.orm.selectinload(User.organisation))
    found = {user.id: user for user in db.session.scalars(query)}
    return [found[i] for i in ids]


def build(actor: User, filters: Filters, now: datetime, *, paginate: bool = True) -> Matrix:
    """The matrix ``actor`` may see under ``filters`` (one page unless ``paginate`` is
    False). Raises ``UnknownCohort`` for a cohort of another organisation.

    Filtering or sorting by status reads the statuses of the whole filtered set from
    the database (``statuses``); only the learners shown are loaded with their records.
    """
    cohort = resolve_cohort(actor, filters)
    loaded = batch.columns()
    columns = _columns(loaded)
    if filters.column and filters.column not in {c.key for c in columns}:
        filters = replace(filters, column="")
    if filters.sort != "name" and filters.sort not in {c.key for c in columns}:
        filters = replace(filters, sort="name")
    query = learner_query(actor, filters, cohort)
    start = (filters.page - 1) * PAGE_SIZE
    if filters.by_status:
        ids = _by_status(query, filters, loaded, now)
        total = len(ids)
        learners = _learners(ids[start : start + PAGE_SIZE] if paginate else ids)
    elif paginate:
        total = db.session.scalar(
            sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
        )
        loading = query.options(sa.orm.joinedload(User.organisation))
        learners = list(db.session.scalars(loading.limit(PAGE_SIZE).offset(start)))
    else:
        learners = list(db.session.scalars(query.options(sa.orm.selectinload(User.organisation))))
        total = len(learners)
    if paginate:
        rows = _rows(learners, loaded, now)
    else:
        rows = _export_rows(learners, query.with_only_columns(User.id).order_by(None), loaded, now)
    return Matrix(filters, columns, rows, total or 0, cohort)


def _export_rows(
    learners: list[User], scope: sa.Select, loaded: batch.Columns, now
) -> Iterator[Row]:
    """Rows of every learner to export, their module cells computed by the database
    (``statuses``): status, best score and qualification end (no lock end). The records
    are read at once; the rows are made as they are asked for (a streamed export writes
    them one by one, outside the request's context, without the database)."""
    found = statuses.module_statuses(scope, loaded, now, details=True)
    query = sa.select(
        found.c.user_id, found.c.module_id, found.c.status, found.c.best, found.c.valid_until
    )
    modules: dict[int, dict[str, Cell]] = {}
    for user_id, module_id, status, best, valid_until in db.session.execute(query):
        if status != "not_started" or best is not None or valid_until is not None:
            modules.setdefault(user_id, {})[f"module:{module_id}"] = Cell(status, best, valid_until)
    outcomes, booked = batch.practical_records(scope)
    keys = [f"module:{m.id}" for m in loaded.modules]
    types = [(f"practical:{t.id}", t.id) for t in loaded.practical_types]
    return _made_rows(learners, modules, keys, types, outcomes, booked)


def _made_rows(learners, modules, keys, types, outcomes, booked) -> Iterator[Row]:
    for learner in learners:
        known = modules.get(learner.id, {})
        cells = {key: known.get(key, NOT_STARTED) for key in keys}
        for key, type_id in types:
            outcome, live = outcomes.get((learner.id, type_id)), (learner.id, type_id) in booked
            cells[key] = practical_cell(outcome, live) if outcome or live else NOT_STARTED
        yield Row(learner, cells)
