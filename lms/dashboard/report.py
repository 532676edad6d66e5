"""The centre's training report, as a training centre reports to its funders: people
trained and hours of training in a period, by learner category, by sector and by month.

How it counts (the page says the same in words, see ``dashboard/report.html``):

- the learners (role learner, active or not) of the organisations in scope, by the
  organisation of their account;
- a lesson earns its minutes (those of the version read) once per learner, when the
  learner first reads it: reading it again, or in a later version, earns nothing more;
- a quiz attempt earns the time from its start to its submission, at most
  ``ATTEMPT_CAP`` (an attempt left open past its time limit counts as submitted at its
  deadline), in the month of its submission;
- a practical session the learner was checked in at earns its length (start to end),
  unless it was cancelled, in the month it started;
- a person is trained in the period when they earned anything in it;
- category and sector are the learner's, as on their account, for people and hours
  alike, so every table adds up to the same totals.

Everything is summed in the database (one query, grouped); Python only arranges the
few grouped rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from lms.auth.models import LEARNER_CATEGORIES, SECTORS, User
from lms.catalog.models import Lesson, LessonRead
from lms.dashboard import scope
from lms.dashboard.period import Period, bucket, centre_timezone, seconds_between
from lms.extensions import db
from lms.practicals.models import Attendance, PracticalSession
from lms.quiz.models import Attempt

#: The longest time one quiz attempt earns (longer ones are abandoned tabs).
ATTEMPT_CAP = timedelta(hours=2)
#: Kinds of activity that earn training time.
KINDS = ("lesson", "quiz", "practical")


def _zero_seconds() -> dict[str, float]:
    return dict.fromkeys(KINDS, 0.0)


@dataclass
class Line:
    """People trained and seconds earned, per kind, for one category or sector (``key``;
    None: not recorded on the account)."""

    key: str | None
    people: int = 0
    seconds: dict[str, float] = field(default_factory=_zero_seconds)

    def hours(self, kind: str | None = None) -> float:
        """Hours earned by ``kind`` of activity, or by all."""
        total = self.seconds[kind] if kind else sum(self.seconds.values())
        return total / 3600

    def add(self, people: int, seconds: dict[str, float]) -> None:
        self.people += people
        for kind in KINDS:
            self.seconds[kind] += seconds[kind]


@dataclass
class MonthLine:
    """One month of the period: people trained in it and hours by learner category."""

    month: date
    people: int = 0
    seconds: dict[str | None, float] = field(default_factory=dict)

    def hours(self, category: str | None) -> float:
        return self.seconds.get(category, 0.0) / 3600

    @property
    def total_hours(self) -> float:
        return sum(self.seconds.values()) / 3600


@dataclass
class Report:
    period: Period
    #: The timezone whose calendar days and months the report follows.
    timezone: str
    total: Line
    categories: list[Line]
    sectors: list[Line]
    months: list[MonthLine]
    #: The learner categories of the month table's columns (None: not recorded).
    month_categories: list[str | None]

    @property
    def is_empty(self) -> bool:
        return self.total.people == 0


def build(actor: User, period: Period, organisation: int | None = None) -> Report:
    """The report of ``period`` over the learners ``actor`` may see (a centre admin: every
    organisation, or ``organisation``). One query, whatever the number of learners."""
    tz = centre_timezone()
    edges = period.month_edges(tz)
    rows = db.session.execute(_grouped(scope.organisation_ids(actor, organisation), edges)).all()
    categories = {key: Line(key) for key in (*LEARNER_CATEGORIES, None)}
    sectors = {key: Line(key) for key in (*SECTORS, None)}
    months = [MonthLine(month) for month in period.months()]
    total = Line(None)
    for row in rows:
        seconds = {kind: float(getattr(row, kind) or 0) for kind in KINDS}
        if row.grain == "group":
            categories[row.category].add(row.people, seconds)
            sectors[row.sector].add(row.people, seconds)
            total.add(row.people, seconds)
        else:
            line = months[row.month]
            line.people += row.people
            line.seconds[row.category] = sum(seconds.values())
    unrecorded = categories[None].people > 0
    return Report(
        period=period,
        timezone=tz.key,
        total=total,
        categories=[line for line in categories.values() if line.key or line.people],
        sectors=[line for line in sectors.values() if line.key or line.people],
        months=months,
        month_categories=[*LEARNER_CATEGORIES, *([None] if unrecorded else [])],
    )


def _activities(start: datetime, end: datetime) -> sa.CTE:
    """Every activity that earns time between ``start`` and ``end`` (UTC): learner,
    moment, kind and seconds earned."""
    read, earlier = LessonRead, sa.orm.aliased(LessonRead)
    first_read = ~sa.exists().where(
        earlier.user_id == read.user_id,
        earlier.module_id == read.module_id,
        earlier.lesson_slug == read.lesson_slug,
        sa.or_(
            earlier.read_at < read.read_at,
            sa.and_(earlier.read_at == read.read_at, earlier.id < read.id),
        ),
    )
    lessons = (
        sa.select(
            read.user_id.label("user_id"),
            read.read_at.label("at"),
            _kind("lesson"),
            sa.cast(Lesson.minutes * 60, sa.Float).label("seconds"),
        )
        .join(
            Lesson, sa.and_(Lesson.version_id == read.version_id, Lesson.slug == read.lesson_slug)
        )
        .where(read.read_at >= start, read.read_at < end, first_read)
    )
    taken = seconds_between(Attempt.started_at, Attempt.submitted_at)
    cap = ATTEMPT_CAP.total_seconds()
    quizzes = sa.select(
        Attempt.user_id,
        Attempt.submitted_at,
        _kind("quiz"),
        sa.case((taken > cap, cap), (taken < 0, 0.0), else_=taken),
    ).where(Attempt.state == "submitted", Attempt.submitted_at >= start, Attempt.submitted_at < end)
    session = PracticalSession
    practicals = (
        sa.select(
            Attendance.learner_id,
            session.starts_at,
            _kind("practical"),
            seconds_between(session.starts_at, session.ends_at),
        )
        .join(session, session.id == Attendance.session_id)
        .where(session.status != "cancelled", session.starts_at >= start, session.starts_at < end)
    )
    return sa.union_all(lessons, quizzes, practicals).cte("activity")


def _kind(name: str) -> sa.ColumnElement[str]:
    return sa.literal_column(f"'{name}'", sa.String).label("kind")


def _sums(columns, *, by_kind: bool) -> list[sa.Label]:
    """Seconds per kind: picked out of the activities' ``kind`` column (``by_kind``), or
    added up from columns already split by kind."""
    if by_kind:
        return [
            sa.func.sum(sa.case((columns.kind == kind, columns.seconds), else_=0.0)).label(kind)
            for kind in KINDS
        ]
    return [sa.func.sum(columns[kind]).label(kind) for kind in KINDS]


def _grouped(org_ids: list[int] | None, edges: list[datetime]) -> sa.CompoundSelect:
    """Two groupings of the learners' activities in one statement: by (category, sector)
    over the whole period (``grain`` "group"), and by (month, category) ("month").

    The activities are first summed per learner and month, so that people are counted
    with ``count(*)`` over a few thousand rows rather than ``count(DISTINCT)`` over
    every activity.
    """
    activity = _activities(edges[0], edges[-1])
    timed = sa.select(activity, bucket(activity.c.at, edges).label("month")).subquery("timed")
    per_month = (
        sa.select(timed.c.user_id, timed.c.month, *_sums(timed.c, by_kind=True))
        .group_by(timed.c.user_id, timed.c.month)
        .subquery("per_month")
    )
    scoped = scope.restrict(
        sa.select(
            per_month,
            User.learner_category.label("category"),
            User.sector.label("sector"),
        )
        .join(User, User.id == per_month.c.user_id)
        .where(User.role == "learner"),
        User.organisation_id,
        org_ids,
    ).cte("scoped")
    per_learner = (
        sa.select(
            scoped.c.user_id, scoped.c.category, scoped.c.sector, *_sums(scoped.c, by_kind=False)
        )
        .group_by(scoped.c.user_id, scoped.c.category, scoped.c.sector)
        .subquery("per_learner")
    )
    by_group = sa.select(
        sa.literal_column("'group'", sa.String).label("grain"),
        sa.cast(sa.null(), sa.Integer).label("month"),
        per_learner.c.category,
        per_learner.c.sector,
        sa.func.count().label("people"),
        *_sums(per_learner.c, by_kind=False),
    ).group_by(per_learner.c.category, per_learner.c.sector)
    by_month = sa.select(
        sa.literal_column("'month'", sa.String),
        scoped.c.month,
        scoped.c.category,
        sa.cast(sa.null(), sa.String),
        sa.func.count(),
        *_sums(scoped.c, by_kind=False),
    ).group_by(scoped.c.month, scoped.c.category)
    return sa.union_all(by_group, by_month)
