"""The worker's database side: claim due deliveries, renew the lease, settle outcomes.

A claim is one UPDATE that marks up to ``size`` due deliveries ``in_flight`` under a
fresh claim token with a lease (PostgreSQL picks them with ``FOR UPDATE SKIP LOCKED``,
so concurrent workers take disjoint sets; on SQLite the single UPDATE runs under the
database's write lock). Settling touches only rows still held by that claim. A worker
that dies leaves its rows in flight until the lease ends; then any worker takes them
over. Statements are built once here and reused (they run for every batch).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from lms.db_types import UTCDateTime, utcnow
from lms.extensions import db
from lms.xapi import delivery
from lms.xapi.delivery import PAUSE, BatchOutcome, Item, Target
from lms.xapi.models import QUEUED, LrsEndpoint, Statement, StatementDelivery

log = logging.getLogger(__name__)

D = StatementDelivery.__table__
S = Statement.__table__
E = LrsEndpoint.__table__

_now = sa.bindparam("now", type_=UTCDateTime())
_ids = sa.bindparam("ids", expanding=True)
#: The rows a claim holds: its token, within its id range (a primary-key range scan).
_held = sa.and_(
    D.c.id.between(sa.bindparam("lo"), sa.bindparam("hi")), D.c.claim == sa.bindparam("token")
)
_due = sa.and_(
    #: Spelled as the queue index's predicate, so both engines use that index.
    sa.text(QUEUED),
    sa.or_(
        sa.and_(D.c.state == "pending", D.c.next_attempt_at <= _now),
        sa.and_(D.c.state == "in_flight", D.c.lease_until < _now),
    ),
)


def _claim_statement(skip_locked: bool) -> sa.Update:
    picked = (
        sa.select(D.c.id)
        .where(D.c.endpoint_id == sa.bindparam("ep"), _due)
        .order_by(D.c.id)
        .limit(sa.bindparam("size"))
    )
    if skip_locked:
        picked = picked.with_for_update(skip_locked=True)
    #: Materialised, so the LIMIT holds (inlined, PostgreSQL may run it more than once).
    picked = picked.cte("picked").prefix_with("MATERIALIZED")
    return (
        sa.update(D)
        .where(D.c.id.in_(sa.select(picked.c.id)), _due)
        .values(
            state="in_flight",
            claim=sa.bindparam("token"),
            lease_until=sa.bindparam("lease_to", type_=UTCDateTime()),
            attempts=D.c.attempts + 1,
        )
        .returning(D.c.id)
    )


CLAIM = {True: _claim_statement(True), False: _claim_statement(False)}


def _claimed(dialect: str) -> sa.Select:
    """The claimed statements' bodies as UTF-8 bytes, ready to send (no decoding)."""
    if dialect == "postgresql":
        body = sa.func.convert_to(S.c.body, sa.literal_column("'UTF8'"))
    else:
        body = sa.cast(S.c.body, sa.LargeBinary)
    return sa.select(D.c.id, body).join(S, S.c.id == D.c.statement_id).where(_held).order_by(D.c.id)


RENEW = sa.update(D).where(_held).values(lease_until=sa.bindparam("lease_to"))
DELIVERED = (
    sa.update(D)
    .where(_held)
    .values(
        state="delivered",
        delivered_at=_now,
        response=sa.bindparam("answer"),
        last_error=None,
        claim=None,
        lease_until=None,
    )
)
HEALTHY = (
    sa.update(E)
    .where(E.c.id == sa.bindparam("ep"))
    .where(
        sa.or_(
            E.c.failures > 0,
            E.c.retry_at.is_not(None),
            E.c.last_success_at.is_(None),
            E.c.last_success_at < sa.bindparam("stale", type_=UTCDateTime()),
        )
    )
    .values(failures=0, retry_at=None, last_success_at=_now)
)
DUE_TARGETS = (
    sa.select(E.c.id, E.c.url, E.c.key, E.c.secret, E.c.xapi_version, E.c.batch_size)
    .where(E.c.enabled.is_(True), E.c.paused_reason.is_(None))
    .where(sa.or_(E.c.retry_at.is_(None), E.c.retry_at <= _now))
    .order_by(E.c.id)
)


@dataclass
class Claim:
    token: str
    target: Target
    items: list[Item]
    #: The lowest and highest claimed delivery id.
    lo: int = 0
    hi: int = 0

    @property
    def held(self) -> dict:
        """The bound parameters that select the rows this claim holds."""
        return {"token": self.token, "lo": self.lo, "hi": self.hi}


def _execute(statement, params=None):
    return db.session.connection().execute(statement, params or {})


def _relaxed_commit() -> None:
    """On PostgreSQL, let this transaction commit without waiting for the disk.

    Safe for the outbox: a claim or settlement lost in a server crash only means the
    statement is sent again, and the LRS keeps one copy per statement id.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))


#: dialect name -> (SQL, parameter order) of the read of a claim, compiled once.
_CLAIMED_SQL: dict[str, tuple[str, tuple[str, ...] | None]] = {}


def _read_claim(held: dict) -> list[Item]:
    """The claimed items, read through the DB-API cursor.

    Reading a claim is the hot path of delivery: this skips SQLAlchemy's row
    processing and the decoding and re-encoding of every statement.
    """
    connection = db.session.connection()
    dialect = connection.dialect
    if dialect.name not in _CLAIMED_SQL:
        compiled = _claimed(dialect.name).compile(dialect=dialect)
        _CLAIMED_SQL[dialect.name] = (str(compiled), compiled.positiontup)
    sql, order = _CLAIMED_SQL[dialect.name]
    params = tuple(held[name] for name in order) if order else held
    driver = connection.connection.driver_connection
    #: psycopg: bytea in binary format (no hex text to decode).
    cursor = driver.cursor(binary=True) if dialect.name == "postgresql" else driver.cursor()
    try:
        cursor.execute(sql, params)
        return [Item(delivery_id, bytes(body)) for delivery_id, body in cursor.fetchall()]
    finally:
        cursor.close()


def due_targets() -> list[tuple[Target, int]]:
    """Enabled, running endpoints not in back-off: their targets and batch sizes."""
    rows = _execute(DUE_TARGETS, {"now": utcnow()}).all()
    db.session.commit()
    return [(Target(r.id, r.url, r.key, r.secret, r.xapi_version), r.batch_size) for r in rows]


def claim(target: Target, size: int, lease_seconds: float) -> Claim | None:
    """Take up to ``size`` due deliveries of ``target``; commits. None when none is due."""
    now = utcnow()
    token = str(uuid.uuid4())
    skip_locked = db.session.get_bind().dialect.name == "postgresql"
    _relaxed_commit()
    params = {
        "now": now,
        "ep": target.endpoint_id,
        "size": size,
        "token": token,
        "lease_to": now + timedelta(seconds=lease_seconds),
    }
    ids = [row[0] for row in _execute(CLAIM[skip_locked], params)]
    if not ids:
        db.session.commit()
        return None
    taken = Claim(token, target, [], min(ids), max(ids))
    taken.items.extend(_read_claim(taken.held))
    db.session.commit()
    return taken


def renew(taken: Claim, lease_seconds: float) -> None:
    """Extend the lease of the deliveries still held by ``taken``."""
    until = utcnow() + timedelta(seconds=lease_seconds)
    _execute(RENEW, {**taken.held, "lease_to": until})
    db.session.commit()


def release(taken: Claim) -> None:
    """Give back a claim that was not sent (the worker is stopping)."""
    _execute(
        sa.update(D).where(_held).values(state="pending", claim=None, lease_until=None),
        taken.held,
    )
    db.session.commit()


def settle(taken: Claim, outcome: BatchOutcome, config) -> None:
    """Record how each delivery of ``taken`` ended, and the endpoint's health; commits.

    The common case (everything accepted) is one UPDATE by claim token.
    """
    now = utcnow()
    _relaxed_commit()
    common = f"HTTP {outcome.status}" if outcome.status else "HTTP 2xx"
    special: dict[str, list[int]] = {}
    for delivery_id, answer in outcome.delivered.items():
        if answer != common:
            special.setdefault(answer, []).append(delivery_id)
    for answer, ids in special.items():
        _execute(
            DELIVERED.where(D.c.id.in_(_ids)),
            {**taken.held, "now": now, "answer": answer, "ids": ids},
        )
    for delivery_id, reason in outcome.parked.items():
        _park(taken, [delivery_id], reason, now)
    if outcome.stopped == PAUSE:
        _pause(taken, outcome, now)
    elif outcome.stopped is not None:
        _retry(taken, outcome, now, config)
    if outcome.delivered:
        # Whatever the claim still holds now was accepted with the common answer.
        _execute(DELIVERED, {**taken.held, "now": now, "answer": common})
        if outcome.stopped is None:
            _execute(
                HEALTHY,
                {"ep": taken.target.endpoint_id, "now": now, "stale": now - timedelta(seconds=1)},
            )
    db.session.commit()


def _update_held(taken: Claim, ids: list[int], **values) -> None:
    _execute(
        sa.update(D).where(_held, D.c.id.in_(_ids)).values(**values), {**taken.held, "ids": ids}
    )


def _park(taken: Claim, ids: list[int], reason: str, now: datetime) -> None:
    _update_held(
        taken, ids, state="parked", parked_at=now, last_error=reason, claim=None, lease_until=None
    )


def _pause(taken: Claim, outcome: BatchOutcome, now: datetime) -> None:
    answer = outcome.answer
    _update_held(
        taken,
        outcome.unsent,
        state="pending",
        next_attempt_at=now,
        claim=None,
        lease_until=None,
    )
    if answer.status in (401, 403):
        reason = f"The LRS refused the key and secret ({answer.describe()})."
    else:
        reason = f"The LRS has no statements resource at this address ({answer.describe()})."
    _execute(
        sa.update(E)
        .where(E.c.id == taken.target.endpoint_id)
        .values(paused_reason=reason, paused_at=now, last_error=reason, last_error_at=now)
    )
    log.warning("xAPI endpoint %s paused: %s", taken.target.endpoint_id, reason)


def _retry(taken: Claim, outcome: BatchOutcome, now: datetime, config) -> None:
    endpoint_id = taken.target.endpoint_id
    failures = 1 + (db.session.scalar(sa.select(E.c.failures).where(E.c.id == endpoint_id)) or 0)
    delay = delivery.backoff_delay(
        failures, base=float(config["XAPI_BACKOFF_BASE"]), ceiling=float(config["XAPI_BACKOFF_MAX"])
    )
    if outcome.answer.retry_after is not None:
        delay = outcome.answer.retry_after
    retry_at = now + timedelta(seconds=delay)
    reason = outcome.answer.describe()
    oldest = now - timedelta(seconds=float(config["XAPI_MAX_RETRY_AGE"]))
    queued = {
        row.id: row.created_at
        for row in _execute(
            sa.select(D.c.id, D.c.created_at).where(D.c.id.in_(_ids)), {"ids": outcome.unsent}
        )
    }
    expired = [i for i in outcome.unsent if queued[i] < oldest]
    waiting = [i for i in outcome.unsent if queued[i] >= oldest]
    if expired:
        _park(taken, expired, f"Gave up after retrying: {reason}", now)
    if waiting:
        _update_held(
            taken,
            waiting,
            state="pending",
            next_attempt_at=retry_at,
            last_error=reason,
            claim=None,
            lease_until=None,
        )
    _execute(
        sa.update(E)
        .where(E.c.id == endpoint_id)
        .values(failures=failures, retry_at=retry_at, last_error=reason, last_error_at=now)
    )
    log.info(
        "xAPI endpoint %s: %s; %d statements retried in %.1f s",
        endpoint_id,
        reason,
        len(waiting),
        delay,
    )
