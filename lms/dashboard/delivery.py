"""Delivery health of the xAPI outbox, for the organisations a member of staff may see.

Counts per LRS endpoint come from ``lms.xapi.health`` (the same states as the admin
pages, plus how many waiting statements have already failed once); this module adds
the last error in plain words and how many statements the learners produced per day.
No secret, key or address credentials ever leave here: an endpoint is shown by its name
and host.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask_babel import format_date, format_datetime
from flask_babel import gettext as _

from lms.auth.models import Organisation, User
from lms.dashboard import scope
from lms.dashboard.charts import BarChart, Series
from lms.dashboard.csvexport import to_csv
from lms.dashboard.period import bucket, centre_timezone, day_edges
from lms.extensions import db
from lms.xapi.health import DeliveryCounts, delivery_counts
from lms.xapi.models import LrsEndpoint, Statement

#: The windows of the statements-per-day chart, in days.
WINDOWS = (14, 30)
_STATUS = re.compile(r"HTTP (\d{3})")


def window_days(value) -> int:
    """The requested window if it is one of ``WINDOWS``; else the first."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return WINDOWS[0]
    return days if days in WINDOWS else WINDOWS[0]


@dataclass(frozen=True)
class EndpointHealth:
    endpoint: LrsEndpoint
    counts: DeliveryCounts
    oldest_pending_age: timedelta | None

    @property
    def host(self) -> str:
        return urlsplit(self.endpoint.url).hostname or ""

    @property
    def state(self) -> str:
        if self.endpoint.paused_reason:
            return _("paused")
        return _("delivering") if self.endpoint.enabled else _("disabled")

    @property
    def problem(self) -> str | None:
        return plain_error(self.endpoint.last_error)

    @property
    def problem_resolved(self) -> bool:
        """Whether a delivery succeeded after the last error."""
        endpoint = self.endpoint
        if endpoint.last_error_at is None or endpoint.last_success_at is None:
            return False
        return endpoint.last_success_at > endpoint.last_error_at


def plain_error(text: str | None) -> str | None:
    """What an LRS error recorded by the delivery worker means, in plain words."""
    if not text:
        return None
    detail = text.removeprefix("Gave up after retrying: ")
    if detail.startswith("The LRS refused the key and secret"):
        return _("The LRS refused the key and secret: an administrator must correct them.")
    if detail.startswith("The LRS has no statements resource"):
        return _("The address of the LRS looks wrong: nothing there accepts statements.")
    if detail.startswith("no answer"):
        return _("The LRS did not answer in time.")
    if detail.startswith("TLS error"):
        return _("The certificate of the LRS could not be verified, so nothing was sent.")
    if detail.startswith("connection failed"):
        return _("The LRS could not be reached (network or address).")
    found = _STATUS.match(detail)
    status = int(found.group(1)) if found else 0
    if status == 429:
        return _("The LRS asked to slow down: delivery resumes when it allows.")
    if status == 408:
        return _("The LRS did not answer in time.")
    if status >= 500:
        return _("The LRS had an internal error (HTTP %(status)d).", status=status)
    if status >= 400:
        return _("The LRS refused a statement (HTTP %(status)d).", status=status)
    return _("The LRS answered with an error.")


def age_text(delta: timedelta | None) -> str:
    """A waiting time in the admin pages' words: seconds, minutes, then hours."""
    if delta is None:
        return "—"
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return _("%(num)d s", num=seconds)
    if seconds < 7200:
        return _("%(num)d min", num=seconds // 60)
    return _("%(num)d h", num=seconds // 3600)


def endpoint_health(actor: User, organisation: int | None, now: datetime) -> list[EndpointHealth]:
    """The health of every LRS endpoint of the organisations ``actor`` may see (two
    queries, however many statements)."""
    query = scope.restrict(
        sa.select(LrsEndpoint)
        .join(Organisation, Organisation.id == LrsEndpoint.organisation_id)
        .options(sa.orm.contains_eager(LrsEndpoint.organisation))
        .order_by(Organisation.name, LrsEndpoint.name, LrsEndpoint.id),
        LrsEndpoint.organisation_id,
        scope.organisation_ids(actor, organisation),
    )
    endpoints = list(db.session.scalars(query))
    if not endpoints:
        return []
    counts = delivery_counts(e.id for e in endpoints)
    return [
        EndpointHealth(
            endpoint=endpoint,
            counts=counts[endpoint.id],
            oldest_pending_age=counts[endpoint.id].oldest_waiting_age(now),
        )
        for endpoint in endpoints
    ]


def statements_chart(actor: User, organisation: int | None, days: int, now: datetime) -> BarChart:
    """Statements about the learners of the organisations ``actor`` may see, per day of
    the event over the last ``days`` days (today included), as a chart."""
    tz = centre_timezone()
    today = now.astimezone(tz).date()
    first = today - timedelta(days=days - 1)
    edges = day_edges(first, days, tz)
    written = sa.select(bucket(Statement.occurred_at, edges).label("day")).where(
        Statement.occurred_at >= edges[0], Statement.occurred_at < edges[-1]
    )
    org_ids = scope.organisation_ids(actor, organisation)
    if org_ids is not None:
        # Through the (user, time) index: an index-only scan per learner.
        people = scope.restrict(sa.select(User.id), User.organisation_id, org_ids)
        written = written.where(Statement.user_id.in_(people))
    days_of = written.subquery()
    counts = dict(
        db.session.execute(sa.select(days_of.c.day, sa.func.count()).group_by(days_of.c.day)).all()
    )
    return BarChart(
        key="statements-per-day",
        title=_("Statements per day of activity, last %(days)d days", days=days),
        description=_(
            "Number of xAPI statements about the learners' activity on each day, from "
            "%(first)s to %(last)s.",
            first=format_date(first, "medium"),
            last=format_date(today, "medium"),
        ),
        categories=[format_date(first + timedelta(days=n), "d MMM") for n in range(days)],
        series=[Series(_("Statements"), [counts.get(n, 0) for n in range(days)])],
        value_label=_("Statements"),
        category_label=_("Day"),
    )


def _when(moment: datetime | None) -> str | None:
    return format_datetime(moment, "yyyy-MM-dd HH:mm") if moment else None


def endpoints_csv(rows: list[EndpointHealth]) -> str:
    """One line per LRS endpoint: its state, counts and last error (never its secret)."""
    header = [
        _("Organisation"),
        _("LRS"),
        _("Host"),
        _("State"),
        _("Delivered"),
        _("Waiting, first try"),
        _("Retrying"),
        _("Parked"),
        _("Oldest pending (minutes)"),
        _("Last delivery"),
        _("Last error"),
        _("Error detail"),
        _("Last error at"),
    ]
    lines = []
    for row in rows:
        endpoint, age = row.endpoint, row.oldest_pending_age
        lines.append(
            [
                endpoint.organisation.name,
                endpoint.name,
                row.host,
                row.state,
                row.counts.delivered,
                row.counts.first_try,
                row.counts.retrying,
                row.counts.parked,
                None if age is None else int(age.total_seconds() // 60),
                _when(endpoint.last_success_at),
                row.problem,
                endpoint.last_error,
                _when(endpoint.last_error_at),
            ]
        )
    return to_csv(header, lines)
