"""Reads of the outbox: delivery health per endpoint, alerts, parked statements, feeds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from lms.auth.models import Organisation, User
from lms.db_types import utcnow
from lms.extensions import db
from lms.xapi.models import LrsEndpoint, Statement, StatementDelivery

D = StatementDelivery


@dataclass
class Health:
    """Delivery counts of one endpoint and the age of its oldest undelivered statement."""

    pending: int = 0
    in_flight: int = 0
    delivered: int = 0
    parked: int = 0
    oldest_pending_at: datetime | None = None

    @property
    def waiting(self) -> int:
        return self.pending + self.in_flight

    def oldest_pending_age(self, now: datetime | None = None) -> timedelta | None:
        if self.oldest_pending_at is None:
            return None
        return (now or utcnow()) - self.oldest_pending_at


def health(endpoint_ids: Iterable[int]) -> dict[int, Health]:
    """``Health`` of each endpoint in ``endpoint_ids`` (zeros for one with no deliveries)."""
    ids = list(endpoint_ids)
    result = {endpoint_id: Health() for endpoint_id in ids}
    if not ids:
        return result
    rows = db.session.execute(
        sa.select(D.endpoint_id, D.state, sa.func.count(), sa.func.min(D.created_at))
        .where(D.endpoint_id.in_(ids))
        .group_by(D.endpoint_id, D.state)
    ).all()
    for endpoint_id, state, count, oldest in rows:
        entry = result[endpoint_id]
        setattr(entry, state, count)
        if state in ("pending", "in_flight") and oldest is not None:
            oldest = _aware(oldest)
            if entry.oldest_pending_at is None or oldest < entry.oldest_pending_at:
                entry.oldest_pending_at = oldest
    return result


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def visible_endpoints(actor: User) -> sa.Select:
    """The endpoints ``actor`` (an admin) manages: all for a centre admin, else their org's."""
    query = (
        sa.select(LrsEndpoint)
        .join(Organisation, Organisation.id == LrsEndpoint.organisation_id)
        .order_by(Organisation.name, LrsEndpoint.name)
    )
    if not actor.is_centre_admin:
        query = query.where(LrsEndpoint.organisation_id == actor.organisation_id)
    return query


@dataclass(frozen=True)
class Alert:
    endpoint: LrsEndpoint
    parked: int
    oldest_pending_age: timedelta | None
    paused: bool


def alerts(endpoints: Iterable[LrsEndpoint]) -> list[Alert]:
    """The endpoints past a threshold: parked statements, oldest pending age, or paused."""
    endpoints = [e for e in endpoints if e.enabled]
    config = current_app.config
    max_parked = int(config["XAPI_ALERT_PARKED"])
    max_age = timedelta(seconds=float(config["XAPI_ALERT_PENDING_AGE"]))
    found = []
    now = utcnow()
    for endpoint_id, entry in health(e.id for e in endpoints).items():
        endpoint = next(e for e in endpoints if e.id == endpoint_id)
        age = entry.oldest_pending_age(now)
        too_old = age is not None and age > max_age
        if entry.parked > max_parked or too_old or endpoint.paused_reason:
            found.append(Alert(endpoint, entry.parked, age, bool(endpoint.paused_reason)))
    return found


def parked(endpoint: LrsEndpoint, limit: int = 200) -> list[StatementDelivery]:
    """The endpoint's parked deliveries, most recent first, with their statements."""
    return list(
        db.session.scalars(
            sa.select(D)
            .where(D.endpoint_id == endpoint.id, D.state == "parked")
            .order_by(D.parked_at.desc(), D.id.desc())
            .limit(limit)
            .options(sa.orm.joinedload(D.statement))
        )
    )


def feed(user: User) -> sa.Select:
    """The statements about ``user``, the most recent first."""
    return (
        sa.select(Statement)
        .where(Statement.user_id == user.id)
        .order_by(Statement.occurred_at.desc(), Statement.id.desc())
    )
