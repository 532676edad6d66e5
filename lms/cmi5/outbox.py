"""The cmi5 outbox: statements for a session's LMS, kept until its LRS has them.

The project's xAPI outbox sends to the organisation's configured LRS endpoints with
their key and secret; a cmi5 statement goes to the launching LMS's ``endpoint`` with
the session's own auth token, so it has this small queue of its own, with the same
care: written in the transaction of the event, sent in order (one session at a time,
held by a lease), retried with back-off after time-outs and 5xx answers, parked with
the LRS's reason when refused, never dropped.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app, g, has_request_context

from lms.cmi5 import conformance
from lms.cmi5.models import QUEUED, Cmi5Session, Cmi5Statement
from lms.cmi5.remote import LmsClient
from lms.cmi5.statements import Launch, Outcome, build
from lms.db_types import utcnow
from lms.extensions import db
from lms.xapi import validation
from lms.xapi.delivery import CONFLICT, DELIVERED, PAUSE, REJECTED, backoff_delay, classify

log = logging.getLogger(__name__)

#: Seconds a delivery run holds a session (longer than its requests can take).
LEASE_SECONDS = 120
S = Cmi5Statement.__table__
X = Cmi5Session.__table__


def launch_of(session: Cmi5Session) -> Launch:
    """The statement facts of ``session``."""
    return Launch(
        actor=session.actor,
        activity_id=session.registration.activity_id,
        registration=session.registration.registration,
        context_template=session.context_template,
        mastery_score=session.mastery_score,
        name=_module_title(session),
    )


def _module_title(session: Cmi5Session) -> dict[str, str]:
    from lms.catalog.models import Module

    module = db.session.get(Module, session.module_id)
    return dict(module.current_version.title) if module and module.current_version else {}


def record(
    session: Cmi5Session,
    verb: str,
    at: datetime,
    *,
    duration: float | None = None,
    outcome: Outcome | None = None,
) -> Cmi5Statement:
    """Queue the cmi5 defined statement of ``verb`` for ``session``; adds and flushes.

    The timestamp is ``at``, or the session's latest statement time if that is later
    (cmi5 orders a session's statements by timestamp). Raises ``ValueError`` when the
    statement would break xAPI or cmi5 (a programming error). In a request, the
    statement is sent once the request has committed.
    """
    latest = db.session.scalar(
        sa.select(sa.func.max(S.c.occurred_at)).where(S.c.session_id == session.id)
    )
    at = max(at, latest or at, session.initialized_at)
    launch = launch_of(session)
    body = build(verb, launch, at, duration=duration, outcome=outcome)
    issues = validation.problems(body) + conformance.problems(body, launch)
    if issues:
        raise ValueError("; ".join(issues))
    statement = Cmi5Statement(
        session_id=session.id,
        uuid=body["id"],
        verb=verb,
        occurred_at=at,
        body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
        next_attempt_at=utcnow(),
    )
    db.session.add(statement)
    db.session.flush()
    if has_request_context():
        g.setdefault("cmi5_to_send", set()).add(session.id)
    return statement


@dataclass
class Report:
    """What a delivery run did for one session."""

    delivered: int = 0
    parked: int = 0
    #: Statements still waiting (the LRS did not answer, or answered "later").
    waiting: int = 0
    #: The LRS's answer that stopped the run, in plain words.
    problem: str | None = None
    #: Another run held the session.
    busy: bool = False
    parked_reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.busy and self.waiting == 0 and self.parked == 0


def _claim(session_id: int, now: datetime) -> bool:
    done = db.session.execute(
        sa.update(X)
        .where(X.c.id == session_id)
        .where(sa.or_(X.c.lease_until.is_(None), X.c.lease_until < now))
        .values(lease_until=now + timedelta(seconds=LEASE_SECONDS))
    )
    db.session.commit()
    return done.rowcount == 1


def _release(session_id: int) -> None:
    db.session.execute(sa.update(X).where(X.c.id == session_id).values(lease_until=None))
    db.session.commit()


def deliver(session_id: int, *, force: bool = False, client: LmsClient | None = None) -> Report:
    """Send the session's waiting statements to its LMS's LRS, oldest first; commits.

    Statements in back-off are left for later unless ``force`` (the learner's Exit).
    Stops at the first transient failure, so that order is kept. Never raises for an
    LRS's answer: the report says what happened.
    """
    db.session.rollback()  # only what the request committed is sent
    now = utcnow()
    if not _claim(session_id, now):
        return Report(busy=True)
    own = client is None
    client = client or LmsClient.from_config(current_app.config)
    try:
        return _send(session_id, now, force, client)
    finally:
        if own:
            client.close()
        _release(session_id)


def _queued(session_id: int) -> list[Any]:
    return list(
        db.session.execute(
            sa.select(S.c.id, S.c.body, S.c.attempts, S.c.next_attempt_at, S.c.created_at)
            .where(S.c.session_id == session_id, sa.text(QUEUED))
            .order_by(S.c.id)
        )
    )


def _send(session_id: int, now: datetime, force: bool, client: LmsClient) -> Report:
    report = Report()
    session = db.session.get(Cmi5Session, session_id)
    rows = _queued(session_id)
    if rows and not force and rows[0].next_attempt_at > now:
        report.waiting = len(rows)
        report.problem = _last_error(rows[0].id)
        return report
    for position, row in enumerate(rows):
        answer = client.post_statement(
            session.endpoint, session.auth_token, row.body.encode("utf-8")
        )
        verdict = classify(answer)
        if verdict in (DELIVERED, CONFLICT):
            _settle(row.id, state="delivered", delivered_at=utcnow(), last_error=None)
            report.delivered += 1
        elif verdict == REJECTED:
            _park(row.id, f"The LRS refused this statement: {answer.describe()}", report)
        elif verdict == PAUSE:
            reason = f"The LMS refused the session's credentials: {answer.describe()}"
            for later in rows[position:]:
                _park(later.id, reason, report)
            report.problem = reason
            break
        else:
            _postpone(rows[position:], answer, now, report)
            break
        db.session.commit()
    db.session.commit()
    if report.parked:
        log.warning("cmi5 session %s: %d statements parked", session.public_id, report.parked)
    return report


def _settle(statement_id: int, **values) -> None:
    db.session.execute(
        sa.update(S).where(S.c.id == statement_id).values(attempts=S.c.attempts + 1, **values)
    )


def _park(statement_id: int, reason: str, report: Report) -> None:
    _settle(statement_id, state="parked", last_error=reason[:1000])
    report.parked += 1
    report.parked_reasons.append(reason)


def _postpone(rows: list, answer, now: datetime, report: Report) -> None:
    """Back off every waiting statement; park those older than the retry limit."""
    config = current_app.config
    reason = answer.describe()
    delay = answer.retry_after
    if delay is None:
        delay = backoff_delay(
            rows[0].attempts + 1,
            base=float(config["XAPI_BACKOFF_BASE"]),
            ceiling=float(config["XAPI_BACKOFF_MAX"]),
        )
    oldest = now - timedelta(seconds=float(config["XAPI_MAX_RETRY_AGE"]))
    for row in rows:
        if row.created_at < oldest:
            _park(row.id, f"Gave up after retrying: {reason}", report)
            continue
        db.session.execute(
            sa.update(S)
            .where(S.c.id == row.id)
            .values(
                attempts=S.c.attempts + (1 if row is rows[0] else 0),
                next_attempt_at=now + timedelta(seconds=delay),
                last_error=reason[:1000],
            )
        )
        report.waiting += 1
    report.problem = reason
    log.info("cmi5 delivery postponed %.1f s: %s", delay, reason)


def _last_error(statement_id: int) -> str | None:
    return db.session.scalar(sa.select(S.c.last_error).where(S.c.id == statement_id))


def due_sessions(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Ids of sessions with a statement due to be sent."""
    now = now or utcnow()
    query = (
        sa.select(S.c.session_id)
        .where(sa.text(QUEUED), S.c.next_attempt_at <= now)
        .group_by(S.c.session_id)
        .order_by(sa.func.min(S.c.id))
        .limit(limit)
    )
    return list(db.session.scalars(query))


def counts(session_id: int) -> dict[str, int]:
    """How many of the session's statements are pending, delivered, parked."""
    rows = db.session.execute(
        sa.select(S.c.state, sa.func.count())
        .where(S.c.session_id == session_id)
        .group_by(S.c.state)
    )
    found = dict.fromkeys(("pending", "delivered", "parked"), 0)
    for state, number in rows:
        found[state] = number
    return found


def last_problem(session_id: int) -> str | None:
    """Why the session's oldest undelivered statement is not delivered yet, if known."""
    return db.session.scalar(
        sa.select(S.c.last_error)
        .where(S.c.session_id == session_id, S.c.state != "delivered")
        .where(S.c.last_error.is_not(None))
        .order_by(S.c.id)
        .limit(1)
    )
