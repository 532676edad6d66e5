"""Synthetic xAPI: LRS endpoints with a history, statements and their deliveries.

Statement bodies are what ``lms.xapi.statements.build_statement`` writes: the builder
makes one statement per kind of event and activity (a template), and each statement
is that template with its own id, actor, time, registration and result. The builder
costs about a quarter of a millisecond a statement, too slow for the hundreds of
thousands a centre's year holds; a test checks that both give the same statements.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa

from lms.demo.people import Org, Person, new_uuid
from lms.demo.writer import Writer
from lms.extensions import db
from lms.xapi import events
from lms.xapi.models import LrsEndpoint, Statement, StatementDelivery
from lms.xapi.services import serialise
from lms.xapi.statements import BuildSettings, agent, build_statement, result

_TEMPLATE_REGISTRATION = "00000000-0000-4000-8000-000000000001"
#: Placeholders of a template's JSON text.
ID, ACTOR, TIMESTAMP, REGISTRATION, RESULT = (
    f"@@{n}@@" for n in ("ID", "ACTOR", "TS", "REG", "RES")
)


@dataclass(frozen=True)
class Template:
    text: str
    verb: str
    object_id: str


@dataclass
class Endpoint:
    """An LRS endpoint and what happened to it: ``healthy``, ``paused`` (the LRS refused
    the key since ``since``), ``failing`` (answering 503 since ``since``) or ``disabled``."""

    id: int
    org: Org
    name: str
    story: str
    since: datetime | None = None


def plan_endpoints(
    writer: Writer, orgs: list[Org], now: datetime, secret: str, scale: float = 1.0
) -> list[Endpoint]:
    """The centre's LRS and some organisations' own, in each state an admin meets: one
    paused three days ago, one failing for five hours (times ``scale`` for a smaller
    centre, so that it has statements waiting too)."""
    centre = next(org for org in orgs if org.kind == "centre")
    companies = [org for org in orgs if org.kind == "company"]
    schools = [org for org in orgs if org.kind == "school"]
    plan = [] if centre.existing else [(centre, "Centre LRS", "healthy", None)]
    stories = (
        ("healthy", None),
        ("paused", timedelta(days=3) * scale),
        ("failing", timedelta(hours=5) * scale),
    )
    for org, (story, ago) in zip(companies, stories, strict=False):
        plan.append((org, f"{org.name} LRS", story, now - ago if ago else None))
    if schools:
        plan.append((schools[0], "School LRS (trial)", "disabled", None))
    endpoints = [Endpoint(writer.id(LrsEndpoint.__table__), *entry) for entry in plan]
    writer.add(LrsEndpoint.__table__, [_endpoint_row(e, now, secret) for e in endpoints])
    if centre.existing:
        #: An existing centre keeps its endpoints; its new statements go to them too.
        query = sa.select(LrsEndpoint.id, LrsEndpoint.name).where(
            LrsEndpoint.organisation_id == centre.id, LrsEndpoint.enabled.is_(True)
        )
        endpoints += [Endpoint(i, centre, name, "healthy") for i, name in db.session.execute(query)]
    return endpoints


def _endpoint_row(endpoint: Endpoint, now: datetime, secret: str) -> dict[str, Any]:
    row = {
        "id": endpoint.id,
        "organisation_id": endpoint.org.id,
        "name": endpoint.name,
        "url": f"https://lrs.{endpoint.org.slug}.example.org/xapi/",
        "key": f"lms-{endpoint.org.slug}",
        "secret": secret,
        "xapi_version": "1.0.3",
        "enabled": endpoint.story != "disabled",
        "batch_size": 100,
        "paused_reason": None,
        "paused_at": None,
        "retry_at": None,
        "failures": 0,
        "last_error": None,
        "last_error_at": None,
        "last_success_at": now - timedelta(seconds=20),
        "alerted_at": None,
        "created_at": now - timedelta(days=800),
    }
    if endpoint.story == "paused":
        reason = "The LRS refused the key and secret (HTTP 401 Unauthorized)."
        row.update(paused_reason=reason, paused_at=endpoint.since, last_error=reason)
        row.update(last_error_at=endpoint.since, last_success_at=endpoint.since)
    elif endpoint.story == "failing":
        row.update(failures=6, retry_at=now + timedelta(minutes=8))
        row.update(last_error="HTTP 503 Service Unavailable", last_error_at=now)
        row.update(last_success_at=endpoint.since, alerted_at=endpoint.since + timedelta(hours=1))
    elif endpoint.story == "disabled":
        row.update(last_success_at=None)
    return row


class Statements:
    """Builds statements and queues them, with one delivery per recipient endpoint."""

    def __init__(
        self,
        rng: random.Random,
        writer: Writer,
        settings: BuildSettings,
        endpoints: list[Endpoint],
        now: datetime,
    ) -> None:
        self.rng, self.writer, self.settings, self.now = rng, writer, settings, now
        enabled = [e for e in endpoints if e.story != "disabled"]
        centre = [e for e in enabled if e.org.kind == "centre"]
        self.recipients = {e.org.id: [e] for e in enabled if e.org.kind != "centre"}
        self.centre = centre
        self.templates: dict[tuple, Template] = {}
        #: Learner id -> the actor as JSON text; result key -> the result as JSON text.
        self.actors: dict[int, str] = {}
        self.results: dict[tuple, str] = {}
        self.kinds: Counter[str] = Counter()
        self.states: Counter[str] = Counter()

    def emit(
        self,
        kind: str,
        learner: Person,
        activity: events.Activity,
        at: datetime,
        *,
        registration: str | None = None,
        parent: events.Activity | None = None,
        res: events.Result | None = None,
        instructor: Person | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        """Queue the statement of one event (and its deliveries)."""
        language = learner.language or self.settings.language
        key = (
            kind,
            activity.path,
            parent.path if parent else None,
            instructor.id if instructor else None,
            language,
            _frozen(extensions),
        )
        key += (registration is not None, res is not None)
        template = self._template(key, kind, activity, parent, instructor, language, extensions)
        uuid = new_uuid(self.rng)
        body = (
            template.text.replace(ID, uuid, 1)
            .replace(ACTOR, self._actor(learner), 1)
            .replace(TIMESTAMP, at.isoformat(), 1)
        )
        if registration is not None:
            body = body.replace(REGISTRATION, registration, 1)
        if res is not None:
            body = body.replace(RESULT, self._result(res), 1)
        statement_id = self.writer.id(Statement.__table__)
        self.writer.add(
            Statement.__table__,
            [
                {
                    "id": statement_id,
                    "uuid": uuid,
                    "organisation_id": learner.org.id,
                    "user_id": learner.id,
                    "kind": kind,
                    "verb": template.verb,
                    "object_id": template.object_id,
                    "occurred_at": at,
                    "created_at": at,
                    "body": body,
                }
            ],
        )
        self.kinds[kind] += 1
        for endpoint in self.recipients.get(learner.org.id, []) + self.centre:
            self.writer.add(
                StatementDelivery.__table__, [self._delivery(statement_id, endpoint, at)]
            )

    def _template(self, key, kind, activity, parent, instructor, language, extensions):
        """The statement of this kind of event as JSON text, with a placeholder for each
        part that differs from one statement to the next."""
        if key not in self.templates:
            registration, with_result = key[-2:]
            event = events.LearningEvent(
                kind=kind,
                learner=_TemplateLearner(),
                activity=activity,
                occurred_at=self.now,
                registration=_TEMPLATE_REGISTRATION if registration else None,
                parent=parent,
                instructor=instructor,
                extensions=extensions,
                language=language,
            )
            body = build_statement(event, self.settings)
            body.update(id=ID, actor=ACTOR, timestamp=TIMESTAMP)
            if registration:
                body["context"]["registration"] = REGISTRATION
            if with_result:
                body["result"] = RESULT
            text = serialise(body).replace(f'"{ACTOR}"', ACTOR).replace(f'"{RESULT}"', RESULT)
            self.templates[key] = Template(text, body["verb"]["id"], body["object"]["id"])
        return self.templates[key]

    def _actor(self, learner: Person) -> str:
        if learner.id not in self.actors:
            actor = agent(self.settings, learner).as_version("1.0.3")
            self.actors[learner.id] = serialise(actor)
        return self.actors[learner.id]

    def _result(self, res: events.Result) -> str:
        key = (*(getattr(res, name) for name in _RESULT_FIELDS), _frozen(res.extensions))
        if key not in self.results:
            self.results[key] = serialise(result(self.settings, res).as_version("1.0.3"))
        return self.results[key]

    def _delivery(self, statement_id: int, endpoint: Endpoint, at: datetime) -> dict[str, Any]:
        row = {
            "statement_id": statement_id,
            "endpoint_id": endpoint.id,
            "state": "delivered",
            "attempts": 1,
            "next_attempt_at": at,
            "lease_until": None,
            "claim": None,
            "last_error": None,
            "response": "HTTP 200",
            "created_at": at,
            "delivered_at": at + timedelta(seconds=1 + self.rng.random() * 3),
            "parked_at": None,
        }
        if endpoint.story == "paused" and at >= endpoint.since - timedelta(minutes=5):
            tried = at < endpoint.since
            row.update(state="pending", attempts=int(tried), response=None, delivered_at=None)
            row["last_error"] = "HTTP 401 Unauthorized" if tried else None
        elif endpoint.story == "failing" and at >= endpoint.since:
            row.update(state="pending", response=None, delivered_at=None)
            row.update(attempts=1 + int((self.now - at).total_seconds() // 3600))
            row.update(last_error="HTTP 503 Service Unavailable")
            row["next_attempt_at"] = self.now + timedelta(minutes=8)
        elif at > self.now - timedelta(seconds=90):
            row.update(state="pending", attempts=0, response=None, delivered_at=None)
        elif self.rng.random() < 0.0005:
            reason = "The LRS refused the statement (HTTP 400): invalid result.response"
            row.update(state="parked", response=None, delivered_at=None, last_error=reason)
            row["parked_at"] = at + timedelta(seconds=2)
        self.states[row["state"]] += 1
        return row


_RESULT_FIELDS = (
    "score_raw",
    "score_min",
    "score_max",
    "success",
    "completion",
    "duration_seconds",
    "response",
)


def _frozen(values: dict[str, Any] | None) -> tuple | None:
    return tuple(sorted(values.items())) if values else None


class _TemplateLearner:
    """The learner of a template: any valid actor, replaced in every statement."""

    public_id = "00000000-0000-4000-8000-000000000000"
    email = "template@example.org"
    language = None
    organisation = SimpleNamespace(actor_mode="account")
