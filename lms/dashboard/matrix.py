"""The progress matrix: learners x modules and practical types, filtered, sorted, paged.

Reads only: the learners of one page (or, when filtering or sorting by status, of the
whole filtered set) are loaded together with all their records in a fixed number of
queries (``batch``), then turned into cells by the pure rules of ``cells``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lms.auth.models import LEARNER_CATEGORIES, SECTORS, User
from lms.dashboard import batch, cohorts, scope
from lms.dashboard.cells import CELL_STATUSES, Cell, attention_rank, module_cell, practical_cell
from lms.dashboard.models import Cohort, CohortMember
from lms.extensions import db

PAGE_SIZE = 50


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
    rows: list[Row]
    total: int
    cohort: Cohort | None = None
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.pages = max(math.ceil(self.total / PAGE_SIZE), 1)


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
    rows = []
    for learner in learners:
        cells: dict[str, Cell] = {}
        for module in loaded.modules:
            found = records.modules.get((learner.id, module.id), batch.ModuleRecords())
            settings = module.current_version.quiz_settings
            cells[f"module:{module.id}"] = module_cell(
                found, loaded.lessons[module.id], settings, now
            )
        for practical in loaded.practical_types:
            key = (learner.id, practical.id)
            cells[f"practical:{practical.id}"] = practical_cell(
                records.outcomes.get(key), key in records.booked
            )
        rows.append(Row(learner, cells))
    return rows


def _matches(row: Row, filters: Filters) -> bool:
    if not filters.status:
        return True
    if filters.column in row.cells:
        return row.cells[filters.column].status == filters.status
    return any(cell.status == filters.status for cell in row.cells.values())


def build(actor: User, filters: Filters, now: datetime, *, paginate: bool = True) -> Matrix:
    """The matrix ``actor`` may see under ``filters`` (one page unless ``paginate`` is
    False). Raises ``UnknownCohort`` for a cohort of another organisation."""
    cohort = resolve_cohort(actor, filters)
    loaded = batch.columns()
    columns = _columns(loaded)
    if filters.column and filters.column not in {c.key for c in columns}:
        filters = replace(filters, column="")
    if filters.sort != "name" and filters.sort not in {c.key for c in columns}:
        filters = replace(filters, sort="name")
    query = learner_query(actor, filters, cohort)
    loading = query.options(sa.orm.joinedload(User.organisation))
    if filters.by_status or not paginate:
        rows = [
            r for r in _rows(list(db.session.scalars(loading)), loaded, now) if _matches(r, filters)
        ]
        if filters.sort != "name":
            rows.sort(key=lambda r: attention_rank(r.cells.get(filters.sort)))
        total = len(rows)
        if paginate:
            start = (filters.page - 1) * PAGE_SIZE
            rows = rows[start : start + PAGE_SIZE]
        return Matrix(filters, columns, rows, total, cohort)
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(query.order_by(None).subquery())
    )
    page = list(db.session.scalars(loading.limit(PAGE_SIZE).offset((filters.page - 1) * PAGE_SIZE)))
    return Matrix(filters, columns, _rows(page, loaded, now), total or 0, cohort)
