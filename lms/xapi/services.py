"""The outbox's rules and writes: record statements, manage endpoints, resend, backfill.

Services flush; the caller (request or command) commits once, so a statement is stored
in the same transaction as the event it describes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import tincan
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.auth.models import Organisation, User
from lms.db_types import UTCDateTime, utcnow
from lms.errors import RuleError
from lms.extensions import db
from lms.xapi import validation
from lms.xapi.delivery import LrsClient, Target
from lms.xapi.events import LearningEvent, StatementError
from lms.xapi.models import XAPI_VERSIONS, LrsEndpoint, Statement, StatementDelivery
from lms.xapi.statements import BuildSettings, build_statement


class EndpointError(RuleError):
    """A change to an endpoint that the rules refuse."""


def build_settings(event: LearningEvent | None = None) -> BuildSettings:
    """The builder's settings from the configuration and the current request's locale."""
    config = current_app.config
    language = None
    if has_request_context():
        language = str(get_locale() or "") or None
    if not language and event is not None:
        language = getattr(event.learner, "language", None)
    return BuildSettings(
        base_url=config["PUBLIC_BASE_URL"],
        platform=config["PLATFORM_NAME"],
        language=language or config["BABEL_DEFAULT_LOCALE"],
    )


def serialise(statement: dict[str, Any]) -> str:
    """The statement as stored and sent: compact JSON, UTF-8 characters kept."""
    return json.dumps(statement, separators=(",", ":"), ensure_ascii=False)


def recipient_endpoints(organisation_id: int) -> list[int]:
    """Ids of the enabled endpoints of ``organisation_id`` and of the centre."""
    query = (
        sa.select(LrsEndpoint.id)
        .join(Organisation, Organisation.id == LrsEndpoint.organisation_id)
        .where(LrsEndpoint.enabled.is_(True))
        .where(sa.or_(Organisation.id == organisation_id, Organisation.is_centre.is_(True)))
        .order_by(LrsEndpoint.id)
    )
    return list(db.session.scalars(query))


def record(event: LearningEvent) -> Statement:
    """Write the statement of ``event`` and its deliveries into the current transaction.

    Returns the stored ``Statement`` (its ``deliveries`` are the per-endpoint rows).
    Only writes into the current transaction: the caller's commit stores it together
    with the event.
    Raises ``StatementError`` when the event cannot make a valid xAPI statement.
    """
    return record_many([event])[0]


def record_many(events: list[LearningEvent]) -> list[Statement]:
    """``record`` for several events of one transaction, in their order.

    Every statement is built and validated before anything is written (one invalid
    event writes none of them); the recipients are read once per organisation; the
    statements, then their deliveries, are written as bulk INSERTs (one multi-row
    statement each where the database allows) instead of a unit-of-work flush per
    object. The returned statements are in the session; their ``deliveries`` load when
    read.
    """
    if not events:
        return []
    bodies = []
    for event in events:
        body = build_statement(event, build_settings(event))
        issues = validation.problems(body)
        if issues:
            raise StatementError("; ".join(issues))
        bodies.append(body)
    now = utcnow()
    recipients: dict[int, list[int]] = {}
    for event in events:
        organisation_id = event.learner.organisation_id
        if organisation_id not in recipients:
            recipients[organisation_id] = recipient_endpoints(organisation_id)
    rows = [
        {
            "uuid": body["id"],
            "organisation_id": event.learner.organisation_id,
            "user_id": event.learner.id,
            "kind": event.kind,
            "verb": body["verb"]["id"],
            "object_id": body["object"]["id"],
            "occurred_at": event.occurred_at,
            "created_at": now,
            "body": serialise(body),
        }
        for event, body in zip(events, bodies, strict=True)
    ]
    statements = list(
        db.session.scalars(
            sa.insert(Statement).returning(Statement, sort_by_parameter_order=True), rows
        )
    )
    deliveries = [
        {
            "statement_id": statement.id,
            "endpoint_id": endpoint_id,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for statement in statements
        for endpoint_id in recipients[statement.organisation_id]
    ]
    if deliveries:
        db.session.execute(sa.insert(StatementDelivery), deliveries)
    return statements


# Endpoints ---------------------------------------------------------------------------


def check_url(url: str) -> str:
    """The LRS base URL, trimmed; raises ``EndpointError`` unless it is a plain http(s) URL."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EndpointError(_l("Enter the LRS address, starting with https://."), "url")
    if parts.username or parts.password:
        raise EndpointError(
            _l("Put the key and secret in their own fields, not in the address."), "url"
        )
    if parts.fragment:
        raise EndpointError(_l("The address cannot contain a fragment (#)."), "url")
    return url


def _check(endpoint: LrsEndpoint) -> None:
    if endpoint.xapi_version not in XAPI_VERSIONS:
        raise EndpointError(_l("Choose a supported xAPI version."), "xapi_version")
    if not 1 <= endpoint.batch_size <= 1000:
        raise EndpointError(_l("The batch size is between 1 and 1000."), "batch_size")
    duplicate = db.session.scalar(
        sa.select(LrsEndpoint.id).where(
            LrsEndpoint.organisation_id == endpoint.organisation_id,
            LrsEndpoint.name == endpoint.name,
            LrsEndpoint.id != (endpoint.id or 0),
        )
    )
    if duplicate is not None:
        raise EndpointError(_l("This organisation has an endpoint of that name already."), "name")


def mask(value: str) -> str:
    """A hint of a credential that does not reveal it: its first three characters."""
    return (value[:3] + "…") if len(value) > 6 else "…"


def _audit(action: str, endpoint: LrsEndpoint, by: User | None, **details) -> None:
    audit.record(
        action,
        actor=by,
        organisation_id=endpoint.organisation_id,
        target_type="lrs_endpoint",
        target_id=endpoint.id,
        details=details,
    )


def create_endpoint(
    *,
    organisation: Organisation,
    name: str,
    url: str,
    key: str,
    secret: str,
    xapi_version: str = "1.0.3",
    batch_size: int | None = None,
    enabled: bool = True,
    by: User | None = None,
) -> LrsEndpoint:
    """Register an LRS endpoint for ``organisation``; raises ``EndpointError``."""
    if not key or not secret:
        raise EndpointError(_l("Enter the key and the secret the LRS gave you."), "secret")
    endpoint = LrsEndpoint(
        organisation=organisation,
        organisation_id=organisation.id,
        name=name.strip(),
        url=check_url(url),
        key=key.strip(),
        secret=secret,
        xapi_version=xapi_version,
        batch_size=batch_size or current_app.config["XAPI_BATCH_SIZE"],
        enabled=enabled,
    )
    _check(endpoint)
    db.session.add(endpoint)
    db.session.flush()
    _audit("xapi.endpoint.created", endpoint, by, name=endpoint.name, url=endpoint.url)
    return endpoint


EDITABLE = ("name", "url", "key", "secret", "xapi_version", "batch_size", "enabled")


def update_endpoint(endpoint: LrsEndpoint, changes: Mapping[str, Any], *, by: User | None):
    """Apply ``changes``; an empty key or secret keeps the stored one.

    A change of address or credentials resumes a paused endpoint (the admin fixed it).
    Returns the names of the fields that changed; raises ``EndpointError``.
    """
    changed = []
    for field in EDITABLE:
        if field not in changes:
            continue
        value = changes[field]
        if field in ("key", "secret") and not value:
            continue
        if field == "url":
            value = check_url(value)
        if getattr(endpoint, field) != value:
            setattr(endpoint, field, value)
            changed.append(field)
    _check(endpoint)
    if endpoint.paused_reason and {"url", "key", "secret", "xapi_version"} & set(changed):
        _resume(endpoint)
    db.session.flush()
    if changed:
        _audit("xapi.endpoint.updated", endpoint, by, fields=changed)
    return changed


def _resume(endpoint: LrsEndpoint) -> None:
    endpoint.paused_reason = None
    endpoint.paused_at = None
    endpoint.retry_at = None
    endpoint.failures = 0


def resume(endpoint: LrsEndpoint, *, by: User | None) -> None:
    """Let delivery to a paused endpoint start again."""
    _resume(endpoint)
    db.session.flush()
    _audit("xapi.endpoint.resumed", endpoint, by)


def set_enabled(endpoint: LrsEndpoint, enabled: bool, *, by: User | None) -> None:
    """Enable or disable delivery; a disabled endpoint receives no new statements."""
    if endpoint.enabled == enabled:
        return
    endpoint.enabled = enabled
    db.session.flush()
    _audit("xapi.endpoint.enabled" if enabled else "xapi.endpoint.disabled", endpoint, by)


@dataclass(frozen=True)
class ConnectionReport:
    ok: bool
    message: str
    versions: tuple[str, ...] = ()


def check_connection(endpoint: LrsEndpoint) -> ConnectionReport:
    """Call the LRS's /about with the endpoint's settings; say whether it will do."""
    client = LrsClient.from_config(current_app.config)
    try:
        answer = client.about(Target.of(endpoint))
    finally:
        client.close()
    if answer.status != 200:
        return ConnectionReport(
            False, _("The LRS did not answer as expected: %(answer)s", answer=answer.describe())
        )
    try:
        versions = tuple(tincan.About.from_json(answer.text).version or ())
    except (ValueError, TypeError, AttributeError):
        return ConnectionReport(False, _("The LRS's /about answer is not valid xAPI."))
    if endpoint.xapi_version not in versions:
        return ConnectionReport(
            False,
            _(
                "The LRS supports xAPI %(versions)s, not %(version)s.",
                versions=", ".join(versions),
                version=endpoint.xapi_version,
            ),
            versions,
        )
    return ConnectionReport(
        True,
        _("The LRS answered and supports xAPI %(version)s.", version=endpoint.xapi_version),
        versions,
    )


# Resend and backfill -----------------------------------------------------------------

D = StatementDelivery.__table__


def _requeue(condition, now: datetime) -> int:
    result = db.session.execute(
        sa.update(D)
        .where(condition, D.c.state == "parked")
        .values(
            state="pending",
            next_attempt_at=now,
            attempts=0,
            parked_at=None,
            created_at=now,
            claim=None,
            lease_until=None,
        )
    )
    return result.rowcount


def resend(delivery: StatementDelivery, *, by: User | None) -> bool:
    """Queue a parked delivery again; returns False when it was not parked."""
    count = _requeue(D.c.id == delivery.id, utcnow())
    db.session.expire(delivery)
    if count:
        _audit("xapi.delivery.resent", delivery.endpoint, by, statement=delivery.statement.uuid)
    return bool(count)


def resend_all(endpoint: LrsEndpoint, *, by: User | None) -> int:
    """Queue every parked delivery of ``endpoint`` again; returns how many."""
    count = _requeue(D.c.endpoint_id == endpoint.id, utcnow())
    if count:
        _audit("xapi.delivery.resent_all", endpoint, by, count=count)
    return count


def backfill(endpoint: LrsEndpoint, *, since: datetime | None = None, by=None) -> int:
    """Queue for ``endpoint`` the stored statements it should have and has not got.

    The statements of its organisation's learners (all of them for a centre endpoint),
    written at or after ``since``; never a second delivery of one statement to one
    endpoint. Returns how many were queued.
    """
    S = Statement.__table__
    now = sa.literal(utcnow(), UTCDateTime())
    query = sa.select(
        S.c.id, sa.literal(endpoint.id), sa.literal("pending"), sa.literal(0), now, now
    ).where(~sa.exists().where(D.c.statement_id == S.c.id, D.c.endpoint_id == endpoint.id))
    if not endpoint.organisation.is_centre:
        query = query.where(S.c.organisation_id == endpoint.organisation_id)
    if since is not None:
        query = query.where(S.c.created_at >= since)
    columns = ["statement_id", "endpoint_id", "state", "attempts", "next_attempt_at", "created_at"]
    inserted = len(
        db.session.execute(
            sa.insert(D).from_select(columns, query.order_by(S.c.id)).returning(D.c.id)
        ).all()
    )
    _audit("xapi.endpoint.backfilled", endpoint, by, count=inserted, since=str(since or ""))
    return inserted
