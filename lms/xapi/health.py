"""Delivery counts of LRS endpoints, read in one statement that stays fast on a large
outbox.

``queries.health`` groups every delivery by endpoint and state (a text column); here
the full scan only counts rows per endpoint (an integer) and the parked ones, while
everything still to send is read through the queue's small partial index. Delivered is
what remains. Both halves run in one statement, so they see the same snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from lms.extensions import db
from lms.xapi.models import QUEUED, StatementDelivery

D = StatementDelivery


@dataclass
class DeliveryCounts:
    """One endpoint's deliveries by state, and the oldest one still to send."""

    delivered: int = 0
    #: Still to send (pending or being sent), whether tried before or not.
    waiting: int = 0
    #: Of ``waiting``, those an LRS already failed to take at least once.
    retrying: int = 0
    parked: int = 0
    oldest_waiting_at: datetime | None = None

    @property
    def first_try(self) -> int:
        return self.waiting - self.retrying

    def oldest_waiting_age(self, now: datetime) -> timedelta | None:
        return None if self.oldest_waiting_at is None else now - self.oldest_waiting_at


def delivery_counts(endpoint_ids: Iterable[int]) -> dict[int, DeliveryCounts]:
    """``DeliveryCounts`` of each endpoint of ``endpoint_ids`` (zeros for one without
    deliveries), in one query."""
    ids = list(endpoint_ids)
    result = {endpoint_id: DeliveryCounts() for endpoint_id in ids}
    if not ids:
        return result
    null_time = sa.cast(sa.null(), D.created_at.type)
    every = (
        sa.select(
            sa.literal_column("'all'", sa.String).label("part"),
            D.endpoint_id,
            sa.func.count().label("total"),
            sa.func.sum(sa.case((D.state == "parked", 1), else_=0)).label("flagged"),
            null_time.label("oldest"),
        )
        .where(D.endpoint_id.in_(ids))
        .group_by(D.endpoint_id)
    )
    queued = (
        sa.select(
            sa.literal_column("'queued'", sa.String),
            D.endpoint_id,
            sa.func.count(),
            sa.func.sum(sa.case((D.last_error.is_not(None), 1), else_=0)),
            sa.func.min(D.created_at),
        )
        .where(D.endpoint_id.in_(ids), sa.text(QUEUED))
        .group_by(D.endpoint_id)
    )
    for row in db.session.execute(sa.union_all(every, queued)):
        entry = result[row.endpoint_id]
        if row.part == "all":
            entry.delivered += row.total - int(row.flagged or 0)
            entry.parked = int(row.flagged or 0)
        else:
            entry.delivered -= row.total
            entry.waiting, entry.retrying = row.total, int(row.flagged or 0)
            entry.oldest_waiting_at = _aware(row.oldest)
    return result


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
