"""What pseudonymising a former learner means for their xAPI statements.

Two things, both about the statements the outbox stores and the LRSs it feeds:

1. **No stored statement keeps the e-mail address.** Where the organisation chose
   ``mbox`` actors, each of the learner's stored statements gets the ``account`` actor
   instead (``homePage`` = base URL, ``name`` = the opaque ``public_id``). Deliveries
   still pending therefore leave pseudonymised. Statements an LRS has already received
   cannot be recalled by this service: they are counted per LRS, so the admin can ask
   that LRS's operator to erase them (``Forgotten.holding_email``).

2. **A voiding statement is sent for every statement that need not stay.** GMP record
   retention (EU GMP Chapter 4, Annex 11; 21 CFR 211.180) covers the evidence that a
   person was trained and assessed: quiz results (``passed``/``failed``), module
   completion, attendance, practical sign-offs and waivers (``RETAINED_KINDS``). Those
   statements stay, under the pseudonymous actor. The trace of how the person moved
   through the material (module opened/started, lessons read, each answered question,
   practical bookings and cancellations) is not a training record: the answers stay in
   the service's own quiz records, and the LRSs get a voiding statement
   (``http://adlnet.gov/expapi/verbs/voided``, object a ``StatementRef``) for each,
   through the outbox, to every endpoint that has, or is about to get, the original.
   A delivery that was parked (the LRS never accepted it) is withdrawn instead; it is
   never re-sent. Statements not delivered anywhere yet are voided all the same, so an
   LRS added later and backfilled receives both, in order.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app

from lms.auth.models import User
from lms.extensions import db
from lms.xapi.models import LrsEndpoint, Statement, StatementDelivery
from lms.xapi.services import serialise

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
#: The ``Statement.kind`` of the voiding statements written here.
VOIDED_KIND = "statement.voided"
#: Statements of these event kinds are training records: they are never voided.
RETAINED_KINDS = frozenset(
    {
        "attempt.passed",
        "attempt.failed",
        "module.completed",
        "practical.attended",
        "practical.passed",
        "practical.failed",
        "prerequisite.waived",
    }
)


@dataclass(frozen=True)
class Plan:
    """What ``forget`` would do, for the admin's confirmation page."""

    statements: int
    to_void: int
    #: LRS name -> statements it received carrying the learner's e-mail address.
    holding_email: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Forgotten:
    """What ``forget`` did."""

    rewritten: int
    voided: int
    withdrawn: int
    holding_email: dict[str, int] = field(default_factory=dict)


def account_actor(user: User) -> dict[str, Any]:
    """The pseudonymous xAPI agent of ``user``: an account named by its public id."""
    return {
        "objectType": "Agent",
        "account": {
            "homePage": current_app.config["PUBLIC_BASE_URL"].rstrip("/"),
            "name": user.public_id,
        },
    }


def voiding_statement(target_uuid: str, actor: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The xAPI 1.0.3 statement voiding the statement ``target_uuid`` (pure).

    No ``context``: ``platform`` and ``revision`` are only allowed with an Activity.
    """
    return {
        "id": str(uuid.uuid4()),
        "actor": actor,
        "verb": {"id": VOIDED, "display": {"en-US": "voided", "fr-FR": "a annulé"}},
        "object": {"objectType": "StatementRef", "id": target_uuid},
        "timestamp": at.astimezone(UTC).isoformat(),
    }


def _carries_email(body: dict[str, Any]) -> bool:
    actor = body.get("actor") or {}
    return "mbox" in actor or "mbox_sha1sum" in actor


def _statements(learner: User) -> list[Statement]:
    return list(
        db.session.scalars(
            sa.select(Statement).where(Statement.user_id == learner.id).order_by(Statement.id)
        )
    )


def _deliveries(learner: User) -> dict[int, list[sa.Row]]:
    """The learner's deliveries by statement id: (id, endpoint id and name, state)."""
    rows = db.session.execute(
        sa.select(
            StatementDelivery.id,
            StatementDelivery.statement_id,
            StatementDelivery.endpoint_id,
            StatementDelivery.state,
            LrsEndpoint.name,
        )
        .join(Statement, Statement.id == StatementDelivery.statement_id)
        .join(LrsEndpoint, LrsEndpoint.id == StatementDelivery.endpoint_id)
        .where(Statement.user_id == learner.id)
        .order_by(StatementDelivery.id)
    )
    found: dict[int, list[sa.Row]] = defaultdict(list)
    for row in rows:
        found[row.statement_id].append(row)
    return found


def _voidable(statement: Statement) -> bool:
    return statement.kind not in RETAINED_KINDS and statement.kind != VOIDED_KIND


def plan(learner: User) -> Plan:
    """Count what ``forget`` would rewrite and void (reads only; three queries)."""
    statements = _statements(learner)
    deliveries = _deliveries(learner)
    holding: Counter[str] = Counter()
    for statement in statements:
        if _carries_email(json.loads(statement.body)):
            holding.update(d.name for d in deliveries[statement.id] if d.state == "delivered")
    return Plan(
        statements=len(statements),
        to_void=sum(1 for s in statements if _voidable(s)),
        holding_email=dict(sorted(holding.items())),
    )


def forget(learner: User, *, by: User, now: datetime) -> Forgotten:
    """Pseudonymise the stored statements of ``learner`` and void those that need not
    stay (see the module's description); only adds and flushes.

    ``by`` (the admin) is the actor of the voiding statements, as an account agent.
    """
    statements = _statements(learner)
    deliveries = _deliveries(learner)
    pseudonym, voider = account_actor(learner), account_actor(by)
    holding: Counter[str] = Counter()
    rewritten = 0
    for statement in statements:
        body = json.loads(statement.body)
        if _carries_email(body):
            holding.update(d.name for d in deliveries[statement.id] if d.state == "delivered")
            body["actor"] = pseudonym
            statement.body = serialise(body)
            rewritten += 1
    voidable = [s for s in statements if _voidable(s)]
    withdrawn = [d.id for s in voidable for d in deliveries[s.id] if d.state == "parked"]
    if withdrawn:
        db.session.execute(sa.delete(StatementDelivery).where(StatementDelivery.id.in_(withdrawn)))
    for statement in voidable:
        endpoint_ids = [d.endpoint_id for d in deliveries[statement.id] if d.state != "parked"]
        db.session.add(_voiding_row(learner, statement, voider, endpoint_ids, now))
    db.session.flush()
    return Forgotten(rewritten, len(voidable), len(withdrawn), dict(sorted(holding.items())))


def _voiding_row(
    learner: User, target: Statement, actor: dict[str, Any], endpoint_ids: list[int], now
) -> Statement:
    body = voiding_statement(target.uuid, actor, now)
    return Statement(
        uuid=body["id"],
        organisation_id=target.organisation_id,
        user_id=learner.id,
        kind=VOIDED_KIND,
        verb=VOIDED,
        object_id=target.uuid,
        occurred_at=now,
        created_at=now,
        body=serialise(body),
        deliveries=[
            StatementDelivery(endpoint_id=endpoint_id, next_attempt_at=now, created_at=now)
            for endpoint_id in endpoint_ids
        ],
    )
