"""The worker's database side: claim due deliveries, renew the claim, settle outcomes.

Two kinds of claim, one per engine:

- PostgreSQL (``RowLocks``): the claim is the row locks of an open transaction. One
  ``SELECT ... FOR NO KEY UPDATE SKIP LOCKED`` takes up to ``size`` due deliveries and
  reads their statements; concurrent workers skip each other's rows. The transaction
  stays open while the group is sent and settling commits it, so each delivery is
  written once. A worker that dies loses its connection and the server rolls its
  transaction back at once (the rows are due again); one that hangs is cut off by
  ``idle_in_transaction_session_timeout``, set longer than a request can last.
- SQLite (a lease): one UPDATE gives the deliveries a fresh claim token and a lease
  (``lease_until``; they stay ``pending`` but are not due before it ends), under the
  database's write lock; settling touches only rows still held by that token. A
  worker that dies leaves its rows claimed until the lease ends; then any worker
  takes them over. SQLite has one writer at a time, so its transactions must stay
  short: no transaction is held across the network there.

Statements are built once here and reused (they run for every batch).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

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
#: PostgreSQL: a claim's ids as one array parameter (``id = ANY(...)``).
_id_array = sa.any_(sa.bindparam("ids", type_=postgresql.ARRAY(sa.Integer)))
#: The rows a claim holds: its token, within its id range (a primary-key range scan).
_held = sa.and_(
    D.c.id.between(sa.bindparam("lo"), sa.bindparam("hi")), D.c.claim == sa.bindparam("token")
)
_lease_over = sa.or_(D.c.lease_until.is_(None), D.c.lease_until < _now)
_due = sa.and_(
    #: Spelled as the queue index's predicate, so both engines use that index.
    sa.text(QUEUED),
    sa.or_(
        sa.and_(D.c.state == "pending", D.c.next_attempt_at <= _now, _lease_over),
        #: Claims of earlier versions, which marked the rows ``in_flight``.
        sa.and_(D.c.state == "in_flight", D.c.lease_until < _now),
    ),
)


def _utf8(dialect: str) -> sa.ColumnElement:
    """A statement's body as UTF-8 bytes, ready to send (no decoding, no re-encoding)."""
    if dialect == "postgresql":
        return sa.func.convert_to(S.c.body, sa.literal_column("'UTF8'"))
    return sa.cast(S.c.body, sa.LargeBinary)


def _lease_claim(dialect: str) -> sa.Update:
    """Lease up to ``size`` due deliveries and return their ids and bodies, at once."""
    picked = (
        sa.select(D.c.id)
        .where(D.c.endpoint_id == sa.bindparam("ep"), _due)
        .order_by(D.c.id)
        .limit(sa.bindparam("size"))
    )
    if dialect == "postgresql":
        picked = picked.with_for_update(skip_locked=True)
    #: Materialised, so the LIMIT holds (inlined, PostgreSQL may run it more than once).
    picked = picked.cte("picked").prefix_with("MATERIALIZED")
    body = sa.select(_utf8(dialect)).where(S.c.id == D.c.statement_id).scalar_subquery()
    return (
        sa.update(D)
        .where(D.c.id.in_(sa.select(picked.c.id)), _due)
        #: The state stays ``pending``: the lease is the claim, and rewriting ``state``
        #: (the queue index's predicate) would cost SQLite an index update per row.
        .values(
            claim=sa.bindparam("token"),
            lease_until=sa.bindparam("lease_to", type_=UTCDateTime()),
            attempts=D.c.attempts + 1,
        )
        .returning(D.c.id, body)
    )


#: PostgreSQL: take due deliveries by locking them (the lock is the claim) and read
#: their statements, in one statement. NO KEY UPDATE: the lock an UPDATE of these rows
#: takes, and no more.
LOCK_CLAIM = (
    sa.select(D.c.id, _utf8("postgresql"))
    .join(S, S.c.id == D.c.statement_id)
    .where(D.c.endpoint_id == sa.bindparam("ep"), _due)
    .order_by(D.c.id)
    .limit(sa.bindparam("size"))
    .with_for_update(of=D, skip_locked=True, key_share=True)
)
LEASE_CLAIM = {name: _lease_claim(name) for name in ("postgresql", "sqlite")}


RENEW = sa.update(D).where(_held).values(lease_until=sa.bindparam("lease_to"))
_DELIVERED = {
    "state": "delivered",
    "delivered_at": _now,
    "response": sa.bindparam("answer"),
    "last_error": None,
    "claim": None,
    "lease_until": None,
}
DELIVERED = sa.update(D).where(_held).values(**_DELIVERED)
#: PostgreSQL: the locked rows by id (the attempt is counted here, not when claimed).
DELIVERED_LOCKED = (
    sa.update(D).where(D.c.id == _id_array).values(**_DELIVERED, attempts=D.c.attempts + 1)
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


@dataclass(frozen=True)
class RowLocks:
    """PostgreSQL: claims held as row locks, in transactions on connections of ``engine``."""

    #: A worker's own small pool: its claims' transactions stay open while it sends.
    engine: sa.Engine
    #: The server ends a claim's transaction idle for this long (a hung worker).
    idle_seconds: float

    def close(self) -> None:
        self.engine.dispose()


def row_locks(config) -> RowLocks | None:
    """The row locks a worker claims with on PostgreSQL; None on SQLite (leases).

    Two connections: one group is sent while the next is claimed. The idle limit
    exceeds the longest gap between two statements of a claim's transaction (half a
    lease between renewals, plus one request's connect and read time-outs).
    """
    if db.engine.dialect.name != "postgresql":
        return None
    idle = sum(
        float(config[key])
        for key in ("XAPI_LEASE_SECONDS", "XAPI_CONNECT_TIMEOUT", "XAPI_READ_TIMEOUT")
    )
    engine = sa.create_engine(db.engine.url, pool_size=2, max_overflow=0, pool_pre_ping=True)
    return RowLocks(engine, idle)


@dataclass
class Claim:
    token: str | None
    target: Target
    items: list[Item]
    #: The lowest and highest claimed delivery id.
    lo: int = 0
    hi: int = 0
    #: PostgreSQL: the open transaction whose row locks hold the claim (no token).
    connection: sa.Connection | None = None
    #: ``time.monotonic()`` when the claim last showed it was alive (taken or renewed):
    #: the server's idle limit (row locks) or the lease counts from about then.
    touched: float = field(default_factory=time.monotonic)

    @property
    def held(self) -> dict:
        """The bound parameters that select the rows this claim holds."""
        return {"token": self.token, "lo": self.lo, "hi": self.hi}

    @property
    def ids(self) -> list[int]:
        return [item.delivery_id for item in self.items]


def _execute(statement, params=None, taken: Claim | None = None):
    """Run ``statement`` in the claim's transaction, or else in the session's."""
    if taken is not None and taken.connection is not None:
        return taken.connection.execute(statement, params or {})
    return db.session.connection().execute(statement, params or {})


def _relaxed_commit() -> None:
    """On PostgreSQL, let this transaction commit without waiting for the disk.

    Safe for the outbox: a claim or settlement lost in a server crash only means the
    statement is sent again, and the LRS keeps one copy per statement id.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))


#: (statement, dialect name) -> the statement compiled, and its bind processors.
_COMPILED: dict[tuple[int, str], tuple[sa.engine.Compiled, dict]] = {}


def _fetch_raw(connection: sa.Connection, statement, values: dict) -> list[Item]:
    """Run a claim statement through the DB-API cursor; its (id, body) rows as items.

    Claiming is the hot path of delivery: this skips SQLAlchemy's row processing and
    the decoding and re-encoding of every statement (bodies arrive as bytes).
    """
    dialect = connection.dialect
    key = (id(statement), dialect.name)
    if key not in _COMPILED:
        compiled = statement.compile(dialect=dialect)
        processors = {}
        for name, bind in compiled.binds.items():
            processor = bind.type.bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        _COMPILED[key] = (compiled, processors)
    compiled, processors = _COMPILED[key]
    params = compiled.construct_params(values)
    for name, processor in processors.items():
        params[name] = processor(params[name])
    if compiled.positiontup is not None:
        params = tuple(params[name] for name in compiled.positiontup)
    driver = connection.connection.driver_connection
    #: psycopg: bytea in binary format (no hex text to decode).
    cursor = driver.cursor(binary=True) if dialect.name == "postgresql" else driver.cursor()
    sql = str(compiled)
    try:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    except dialect.loaded_dbapi.Error as error:
        #: As SQLAlchemy would raise it, so the worker's error handling sees it.
        raise sa.exc.DBAPIError.instance(
            sql, params, error, dialect.loaded_dbapi.Error, dialect=dialect
        ) from error
    finally:
        cursor.close()
    return sorted(Item(delivery_id, bytes(body)) for delivery_id, body in rows)


def due_targets() -> list[tuple[Target, int]]:
    """Enabled, running endpoints not in back-off: their targets and batch sizes."""
    rows = _execute(DUE_TARGETS, {"now": utcnow()}).all()
    db.session.commit()
    return [(Target(r.id, r.url, r.key, r.secret, r.xapi_version), r.batch_size) for r in rows]


def claim(
    target: Target, size: int, lease_seconds: float, locks: RowLocks | None = None
) -> Claim | None:
    """Take up to ``size`` due deliveries of ``target``. None when none is due.

    With ``locks`` (PostgreSQL) the claim's transaction stays open until it is settled
    or released; otherwise the lease is written and committed.
    """
    if locks is not None:
        return _lock_claim(target, size, locks)
    started = time.monotonic()
    now = utcnow()
    token = str(uuid.uuid4())
    _relaxed_commit()
    params = {
        "now": now,
        "ep": target.endpoint_id,
        "size": size,
        "token": token,
        "lease_to": now + timedelta(seconds=lease_seconds),
    }
    connection = db.session.connection()
    items = _fetch_raw(connection, LEASE_CLAIM[connection.dialect.name], params)
    db.session.commit()
    if not items:
        return None
    return Claim(token, target, items, items[0].delivery_id, items[-1].delivery_id, touched=started)


def _lock_claim(target: Target, size: int, locks: RowLocks) -> Claim | None:
    connection = locks.engine.connect()
    try:
        connection.begin()
        #: The server's bound on how long a hung worker can hold the rows; and, as in
        #: ``_relaxed_commit``, no wait for the disk at commit.
        connection.exec_driver_sql(
            "SELECT set_config('synchronous_commit', 'off', true),"
            " set_config('idle_in_transaction_session_timeout', %(idle)s, true)",
            {"idle": str(int(locks.idle_seconds * 1000))},
        )
        params = {"now": utcnow(), "ep": target.endpoint_id, "size": size}
        items = _fetch_raw(connection, LOCK_CLAIM, params)
    except BaseException:
        connection.invalidate()  # whatever state it is in, it is not reused
        connection.close()
        raise
    if not items:
        connection.close()
        return None
    return Claim(None, target, items, items[0].delivery_id, items[-1].delivery_id, connection)


def _finish(taken: Claim) -> None:
    """Commit the settlement: the claim's own transaction, or the session's."""
    if taken.connection is None:
        db.session.commit()
    else:
        taken.connection.commit()


def renew(taken: Claim, lease_seconds: float) -> None:
    """Extend the lease of the deliveries still held by ``taken``.

    A claim held by row locks only shows the server it is alive (its idle limit); this
    raises when the server has ended its transaction (the rows are no longer ours).
    """
    started = time.monotonic()
    if taken.connection is not None:
        taken.connection.exec_driver_sql("SELECT 1")
    else:
        until = utcnow() + timedelta(seconds=lease_seconds)
        _execute(RENEW, {**taken.held, "lease_to": until})
        db.session.commit()
    taken.touched = started


def release(taken: Claim) -> None:
    """Give back a claim that was not sent (the worker is stopping, or failed).

    Harmless on a claim already settled or released.
    """
    if taken.connection is not None:
        taken.connection.close()  # rolls back: the rows are unlocked, untouched
        return
    _execute(
        sa.update(D).where(_held).values(state="pending", claim=None, lease_until=None),
        taken.held,
    )
    db.session.commit()


def settle(taken: Claim, outcome: BatchOutcome, config) -> None:
    """Record how each delivery of ``taken`` ended, and the endpoint's health; commits.

    The common case (everything accepted) is one UPDATE: by claim token (lease), or by
    the list of locked ids (row locks). A claim held by row locks is over afterwards,
    whether this succeeds or raises (its rows are then due again).
    """
    try:
        _settle(taken, outcome, config)
    finally:
        if taken.connection is not None:
            taken.connection.close()


def _settle(taken: Claim, outcome: BatchOutcome, config) -> None:
    now = utcnow()
    if taken.connection is None:
        _relaxed_commit()
    common = f"HTTP {outcome.status}" if outcome.status else "HTTP 2xx"
    answers: dict[str, list[int]] = {}
    for delivery_id, answer in outcome.delivered.items():
        answers.setdefault(answer, []).append(delivery_id)
    for answer, ids in answers.items():
        if taken.connection is not None:
            _execute(DELIVERED_LOCKED, {"now": now, "answer": answer, "ids": ids}, taken)
        elif answer != common:
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
        if taken.connection is None:
            # Whatever the claim still holds now was accepted with the common answer.
            _execute(DELIVERED, {**taken.held, "now": now, "answer": common})
        if outcome.stopped is None:
            _execute(
                HEALTHY,
                {"ep": taken.target.endpoint_id, "now": now, "stale": now - timedelta(seconds=1)},
                taken,
            )
    _finish(taken)


def _update_held(taken: Claim, ids: list[int], **values) -> None:
    if taken.connection is not None:
        # Locked by this transaction: nobody else can have changed them.
        update = sa.update(D).where(D.c.id == _id_array)
        _execute(update.values(**values, attempts=D.c.attempts + 1), {"ids": ids}, taken)
        return
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
        .values(paused_reason=reason, paused_at=now, last_error=reason, last_error_at=now),
        taken=taken,
    )
    log.warning("xAPI endpoint %s paused: %s", taken.target.endpoint_id, reason)


def _retry(taken: Claim, outcome: BatchOutcome, now: datetime, config) -> None:
    endpoint_id = taken.target.endpoint_id
    failures = 1 + (
        _execute(sa.select(E.c.failures).where(E.c.id == endpoint_id), taken=taken).scalar() or 0
    )
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
            sa.select(D.c.id, D.c.created_at).where(D.c.id.in_(_ids)),
            {"ids": outcome.unsent},
            taken,
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
        .values(failures=failures, retry_at=retry_at, last_error=reason, last_error_at=now),
        taken=taken,
    )
    log.info(
        "xAPI endpoint %s: %s; %d statements retried in %.1f s",
        endpoint_id,
        reason,
        len(waiting),
        delay,
    )
