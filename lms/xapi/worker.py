"""The delivery worker: sends what the outbox holds, overlapping database and network.

Each worker has a database thread (claims, lease renewals, settlements) and sends from
its own thread: while one group of batches is on the wire, the previous group is
settled and the next one claimed. See ``outbox`` for the claims: row locks held by an
open transaction on PostgreSQL, leases on SQLite.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import sqlalchemy as sa
from flask import Flask

from lms.extensions import db
from lms.xapi import alerts, delivery, outbox
from lms.xapi.delivery import BatchOutcome, LrsClient, Target

log = logging.getLogger(__name__)

#: Groups of batches one endpoint may send in a round before the next endpoint's turn.
GROUPS_PER_ROUND = 20
#: Seconds between two looks at the alert thresholds (for the admins' e-mail).
ALERT_CHECK_SECONDS = 60


class Worker:
    """Delivers until stopped; each round drains every due endpoint in turn."""

    def __init__(self, app: Flask, *, stop: threading.Event | None = None, name: str = "worker"):
        self.app = app
        self.config = app.config
        self.stop = stop or threading.Event()
        self.name = name
        self.lease = float(app.config["XAPI_LEASE_SECONDS"])
        self.poll = float(app.config["XAPI_POLL_INTERVAL"])
        #: Batches claimed (and sent) together: one database round trip for all of them.
        self.group = int(app.config["XAPI_BATCHES_PER_CLAIM"])
        self.client: LrsClient | None = None
        #: PostgreSQL: the connections whose transactions hold this worker's claims.
        self.locks: outbox.RowLocks | None = None
        self._db: ThreadPoolExecutor | None = None
        self.thread: threading.Thread | None = None
        #: Deliveries this worker settled (delivered, parked or rescheduled).
        self.settled = 0
        #: Deliveries this worker delivered.
        self.delivered = 0

    def run(self, *, once: bool = False) -> int:
        """Deliver until ``stop`` is set (or, with ``once``, until nothing is due).

        A group on the wire is finished and settled, a claimed one not yet sent is
        released, before returning. Returns how many deliveries this worker settled.
        """
        self.client = LrsClient.from_config(self.config)
        self._db = ThreadPoolExecutor(1, thread_name_prefix=f"xapi-{self.name}-db")
        contexts = []
        self._db.submit(self._enter, contexts).result()
        try:
            next_alert = 0.0
            while not self.stop.is_set():
                if time.monotonic() >= next_alert:
                    next_alert = time.monotonic() + ALERT_CHECK_SECONDS
                    self._on_db(self._alert).result()
                settled = self._safe_round()
                if settled == 0:
                    if once:
                        break
                    self.stop.wait(self.poll)
        finally:
            self._db.submit(self._leave, contexts).result()
            self._db.shutdown()
            self.client.close()
        return self.settled

    def _enter(self, contexts: list) -> None:
        context = self.app.app_context()
        context.push()
        contexts.append(context)
        self.locks = outbox.row_locks(self.config)

    def _leave(self, contexts: list) -> None:
        if self.locks is not None:
            self.locks.close()
        db.session.remove()
        contexts.pop().pop()

    def _alert(self) -> None:
        try:
            alerts.notify_admins()
        except sa.exc.SQLAlchemyError:
            log.exception("xAPI worker %s: could not check the alert thresholds", self.name)
            db.session.rollback()

    def _on_db(self, fn, *args) -> Future:
        return self._db.submit(fn, *args)

    def _safe_round(self) -> int:
        try:
            return self.round()
        except sa.exc.SQLAlchemyError:
            log.exception("xAPI worker %s: database error; trying again shortly", self.name)
            self._on_db(db.session.rollback).result()
            self.stop.wait(self.poll)
            return 0

    def round(self) -> int:
        """Drain each due endpoint in turn; returns how many deliveries were settled."""
        settled = 0
        for target, size in self._on_db(outbox.due_targets).result():
            if self.stop.is_set():
                break
            settled += self.drain(target, size)
        return settled

    def drain(self, target: Target, batch_size: int) -> int:
        """Send ``target`` its due statements, a group of batches at a time.

        While a group is on the wire, the database thread settles the previous group
        and claims the next. After a pause or a transient failure the claimed next
        group is not sent: it is settled with the same answer. Returns how many
        deliveries were settled.
        """
        size = batch_size * self.group
        settled = 0
        settling: list[Future] = []
        taken: outbox.Claim | None = None
        upcoming = self._on_db(outbox.claim, target, size, self.lease, self.locks)
        try:
            for _ in range(GROUPS_PER_ROUND):
                taken = upcoming.result()
                if taken is None:
                    return settled
                if self.stop.is_set():
                    self._on_db(outbox.release, taken).result()
                    return settled
                upcoming = self._on_db(outbox.claim, target, size, self.lease, self.locks)
                outcome = self._send(taken, batch_size)
                settling.append(self._on_db(outbox.settle, taken, outcome, self.config))
                settled += self._count(taken, outcome)
                if outcome.stopped is not None:
                    nxt = upcoming.result()
                    if nxt is not None:
                        unsent = BatchOutcome(
                            stopped=outcome.stopped,
                            answer=outcome.answer,
                            unsent=[item.delivery_id for item in nxt.items],
                        )
                        settling.append(self._on_db(outbox.settle, nxt, unsent, self.config))
                        settled += self._count(nxt, unsent)
                    return settled
            nxt = upcoming.result()
            if nxt is not None:
                self._on_db(outbox.release, nxt).result()
            return settled
        except BaseException:
            # Nothing claimed stays held by a failed drain (a claim's rows, its connection).
            self._give_back(upcoming, taken)
            raise
        finally:
            for future in settling:
                future.result()

    def _give_back(self, upcoming: Future, taken: outbox.Claim | None) -> None:
        """Release ``taken`` and the upcoming claim (harmless if already settled)."""
        claims = [taken]
        if upcoming.exception() is None:
            claims.append(upcoming.result())
        for claimed in claims:
            if claimed is None:
                continue
            try:
                self._on_db(outbox.release, claimed).result()
            except Exception:
                log.exception("xAPI worker %s: could not give back a claim", self.name)

    def _send(self, taken: outbox.Claim, batch_size: int) -> BatchOutcome:
        def before_request() -> None:
            # A claim taken ahead waited while the previous group was sent: it may be
            # close to its idle limit (row locks) or lease before its first request.
            # Renew it and wait for the answer before sending: a claim the server has
            # ended raises here, and what another worker may now take is not sent twice.
            if time.monotonic() - taken.touched > self.lease / 2:
                self._on_db(outbox.renew, taken, self.lease).result()

        return delivery.send_batch(
            self.client, taken.target, taken.items, batch_size, before_request
        )

    def _count(self, taken: outbox.Claim, outcome: BatchOutcome) -> int:
        self.delivered += len(outcome.delivered)
        self.settled += len(taken.items)
        return len(taken.items)


def run_workers(app: Flask, *, threads: int = 1, once: bool = False, stop=None) -> int:
    """Run ``threads`` workers in this process until ``stop`` (or drained, with ``once``)."""
    stop = stop or threading.Event()
    workers = [Worker(app, stop=stop, name=f"worker-{n}") for n in range(threads)]
    if threads == 1:
        return workers[0].run(once=once)
    runners = [
        threading.Thread(target=w.run, kwargs={"once": once}, name=w.name, daemon=True)
        for w in workers
    ]
    for runner in runners:
        runner.start()
    for runner in runners:
        while runner.is_alive():
            runner.join(0.5)
    return sum(w.settled for w in workers)


_embedded_lock = threading.Lock()
EMBEDDED = "xapi_embedded_worker"


def start_embedded(app: Flask) -> Worker | None:
    """Start delivery in a daemon thread of this web process, once; development only.

    Called lazily (by requests, once an endpoint exists), never at import time and
    never under test. Returns the running worker, or None where it does not apply.
    """
    config = app.config
    if config["ENV"] != "development" or app.testing or not config["XAPI_EMBEDDED_WORKER"]:
        return None
    with _embedded_lock:
        worker = app.extensions.get(EMBEDDED)
        if worker is None or not worker.thread.is_alive():
            worker = Worker(app, name="embedded")
            worker.thread = threading.Thread(target=worker.run, name="xapi-delivery", daemon=True)
            worker.thread.start()
            app.extensions[EMBEDDED] = worker
            log.info("xAPI delivery runs in the background of this development server")
    return worker
