"""Reporting periods and calendar buckets in the centre's timezone.

A report counts what happened between two calendar days (both included) of the centre's
timezone (``BABEL_DEFAULT_TIMEZONE``, UTC by default). The database stores UTC instants,
so a day or a month is turned into the UTC instants of its local midnights here, in
Python, and the SQL only compares timestamps: the same query runs on SQLite and on
PostgreSQL, and daylight saving time moves nothing to the wrong month.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.ext.compiler import compiles

from lms.db_types import UTCDateTime

log = logging.getLogger(__name__)

#: The longest period a report covers, in calendar months.
MAX_MONTHS = 36
#: Dates outside these years are refused (typing slips such as 0202-03-01).
FIRST_YEAR, LAST_YEAR = 2000, 2100
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def centre_timezone() -> ZoneInfo:
    """The timezone of the centre's calendar: ``BABEL_DEFAULT_TIMEZONE``, else UTC."""
    name = current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown BABEL_DEFAULT_TIMEZONE %r: reports use UTC", name)
        return ZoneInfo("UTC")


def midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``tz``."""
    return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)


def first_of_month(day: date, months: int = 0) -> date:
    """The first day of the month ``months`` after (or before) the month of ``day``."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class PeriodError(ValueError):
    """The period asked for cannot be reported; ``errors`` maps a field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(str(message) for message in errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end``, both days included, in the centre's calendar."""

    start: date
    end: date

    @classmethod
    def default(cls, today: date) -> Period:
        """The last twelve full months before the month of ``today``."""
        this_month = first_of_month(today)
        return cls(first_of_month(today, -12), this_month - timedelta(days=1))

    @classmethod
    def from_args(cls, args: Mapping[str, str], today: date) -> Period:
        """The period of the ``from`` and ``to`` arguments (ISO dates; an empty one takes
        the default's). Raises ``PeriodError`` naming each bad field."""
        default = cls.default(today)
        errors: dict[str, str] = {}
        start = _day(args.get("from"), default.start, "from", errors)
        end = _day(args.get("to"), default.end, "to", errors)
        if not errors and start > end:
            errors["to"] = _("The end of the period comes before its start.")
        if not errors and first_of_month(start, MAX_MONTHS) <= end:
            errors["to"] = _(
                "Choose a period within %(months)d calendar months.", months=MAX_MONTHS
            )
        if errors:
            raise PeriodError(errors)
        return cls(start, end)

    def months(self) -> list[date]:
        """The first day of every month the period touches, in order."""
        found, month = [], first_of_month(self.start)
        while month <= self.end:
            found.append(month)
            month = first_of_month(month, 1)
        return found

    def month_edges(self, tz: ZoneInfo) -> list[datetime]:
        """UTC instants: the start, each month's beginning within the period, the end
        (exclusive). ``len(months()) + 1`` of them."""
        inner = [midnight(month, tz) for month in self.months()[1:]]
        return [midnight(self.start, tz), *inner, midnight(self.end + timedelta(days=1), tz)]

    def args(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}


def presets(today: date) -> list[tuple[str, Period]]:
    """The periods a centre usually reports on, named."""
    return [
        (_("The last 12 full months"), Period.default(today)),
        (_("This year so far"), Period(date(today.year, 1, 1), today)),
        (_("Last year"), Period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31))),
    ]


def _day(value: str | None, default: date, field: str, errors: dict[str, str]) -> date:
    text = (value or "").strip()
    if not text:
        return default
    try:
        day = date.fromisoformat(text) if ISO_DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        errors[field] = _("Enter a date such as 2026-03-31 (year-month-day).")
        return default
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        errors[field] = _(
            "Choose a date between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR
        )
        return default
    return day


def day_edges(first: date, days: int, tz: ZoneInfo) -> list[datetime]:
    """UTC instants of the local midnights from ``first`` to ``days`` days later."""
    return [midnight(first + timedelta(days=n), tz) for n in range(days + 1)]


def bucket(column: sa.ColumnElement, edges: Sequence[datetime]) -> sa.ColumnElement[int]:
    """The 0-based index of the interval of ``edges`` that holds ``column`` (a UTC
    timestamp already known to lie between the first and the last edge): nested CASEs
    that halve the intervals, so a row takes a handful of comparisons, not one per day."""
    return _search(column, edges, 0, len(edges) - 2)


def _search(column: sa.ColumnElement, edges: Sequence[datetime], low: int, high: int):
    if low >= high:
        return sa.literal(low, sa.Integer)
    middle = (low + high + 1) // 2
    edge = sa.bindparam(None, edges[middle], type_=UTCDateTime())
    return sa.case(
        (column < edge, _search(column, edges, low, middle - 1)),
        else_=_search(column, edges, middle, high),
    )


class seconds_between(sa.sql.functions.FunctionElement):  # noqa: N801 - an SQL function
    """``seconds_between(start, end)``: seconds from one timestamp to the other, as a
    floating-point number, on PostgreSQL and SQLite."""

    type = sa.Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between)
def _seconds_postgresql(element, compiler, **kw) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    # Julian days are floating-point: rounded to the millisecond, 20 minutes stay 1200.0.
    return f"ROUND((julianday({end}) - julianday({start})) * 86400.0, 3)"
