"""Platform registrations: who may manage them, and the audited writes.

An organisation's admin registers the platforms of that organisation; the centre admin
those of every organisation. Services flush; the request (or command) commits once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.auth import policy
from lms.auth.models import Organisation, User
from lms.errors import RuleError
from lms.extensions import db
from lms.lti import keys
from lms.lti.models import Deployment, LinkMember, Platform, ResourceLink, ScorePost

#: Fields an admin may change on a registration (besides its deployment ids).
PLATFORM_FIELDS = (
    "name",
    "issuer",
    "client_id",
    "auth_login_url",
    "auth_token_url",
    "auth_audience",
    "keyset_url",
)
URL_FIELDS = ("issuer", "auth_login_url", "auth_token_url", "auth_audience", "keyset_url")


class PlatformError(RuleError):
    """A registration change the rules refuse."""


def can_manage(actor: User, platform: Platform) -> bool:
    return policy.can_manage_organisation(actor, platform.organisation)


def visible_platforms(actor: User) -> sa.Select:
    """The registrations ``actor`` manages, by organisation and name."""
    query = (
        sa.select(Platform)
        .join(Organisation, Organisation.id == Platform.organisation_id)
        .order_by(Organisation.name, Platform.name, Platform.id)
    )
    if not policy.is_centre_admin(actor):
        query = query.where(Platform.organisation_id == actor.organisation_id)
    return query


def _check_url(field: str, value: str | None) -> None:
    if not value:
        if field == "auth_audience":
            return
        raise PlatformError(_l("This address is required."), field)
    parts = urlsplit(value)
    secure_only = current_app.config["ENV"] == "production"
    schemes = ("https",) if secure_only else ("https", "http")
    if parts.scheme not in schemes or not parts.netloc or len(value) > 500:
        raise PlatformError(_l("Enter an https:// address of at most 500 characters."), field)


def clean_deployment_ids(values: Iterable[str]) -> list[str]:
    """The deployment ids, trimmed, without blanks or repeats; at least one."""
    cleaned = list(dict.fromkeys(value.strip() for value in values if value and value.strip()))
    if not cleaned:
        raise PlatformError(_l("Give at least one deployment id."), "deployment_ids")
    if any(len(value) > 255 for value in cleaned):
        raise PlatformError(_l("A deployment id has at most 255 characters."), "deployment_ids")
    return cleaned


def _check(fields: Mapping[str, Any], *, except_platform: Platform | None = None) -> None:
    for field in URL_FIELDS:
        _check_url(field, fields.get(field))
    for field in ("name", "client_id"):
        if not (fields.get(field) or "").strip():
            raise PlatformError(_l("This field is required."), field)
    other = db.session.scalar(
        sa.select(Platform).where(
            Platform.issuer == fields["issuer"], Platform.client_id == fields["client_id"]
        )
    )
    if other is not None and other is not except_platform:
        raise PlatformError(_l("This issuer and client id are already registered."), "client_id")


def register_platform(
    *, organisation: Organisation, deployment_ids: Iterable[str], by: User | None = None, **fields
) -> Platform:
    """Register a platform for ``organisation``; make sure we have a signing key.

    ``fields`` are ``PLATFORM_FIELDS``. Raises ``PlatformError`` on a missing or
    malformed field, or an issuer and client id registered already.
    """
    fields = {name: (fields.get(name) or "").strip() or None for name in PLATFORM_FIELDS}
    _check(fields)
    platform = Platform(organisation=organisation, **fields)
    platform.deployments = [
        Deployment(deployment_id=d) for d in clean_deployment_ids(deployment_ids)
    ]
    db.session.add(platform)
    db.session.flush()
    keys.ensure_current_key()
    audit.record(
        "lti.platform.registered",
        actor=by,
        organisation_id=organisation.id,
        target_type="lti_platform",
        target_id=platform.id,
        details={**fields, "deployment_ids": platform.deployment_ids},
    )
    return platform


def update_platform(
    platform: Platform, changes: Mapping[str, Any], deployment_ids: Iterable[str], *, by: User
) -> dict[str, Any]:
    """Apply ``changes`` and the new deployment ids; audit and return what changed."""
    unknown = set(changes) - set(PLATFORM_FIELDS)
    if unknown:
        raise PlatformError(f"Cannot change {', '.join(sorted(unknown))}.")
    merged = {name: getattr(platform, name) for name in PLATFORM_FIELDS}
    merged.update({name: (value or "").strip() or None for name, value in changes.items()})
    _check(merged, except_platform=platform)
    wanted = clean_deployment_ids(deployment_ids)
    diff = {
        name: [getattr(platform, name), value]
        for name, value in merged.items()
        if getattr(platform, name) != value
    }
    if wanted != platform.deployment_ids:
        diff["deployment_ids"] = [platform.deployment_ids, wanted]
        kept = {d.deployment_id: d for d in platform.deployments}
        platform.deployments = [kept.get(d) or Deployment(deployment_id=d) for d in wanted]
    for name, (_old, new) in diff.items():
        if name != "deployment_ids":
            setattr(platform, name, new)
    if diff:
        db.session.flush()
        audit.record(
            "lti.platform.updated",
            actor=by,
            organisation_id=platform.organisation_id,
            target_type="lti_platform",
            target_id=platform.id,
            details=diff,
        )
    return diff


def set_enabled(platform: Platform, enabled: bool, *, by: User) -> None:
    """Switch launches (and score sending) from the platform on or off; audited."""
    if platform.enabled == enabled:
        return
    platform.enabled = enabled
    db.session.flush()
    audit.record(
        "lti.platform.enabled" if enabled else "lti.platform.disabled",
        actor=by,
        organisation_id=platform.organisation_id,
        target_type="lti_platform",
        target_id=platform.id,
    )


def score_counts(platform_ids: list[int]) -> dict[int, dict[str, int]]:
    """Platform id -> ``{"pending", "sent", "failed"}`` numbers of scores, in one query."""
    counts = {pid: {"pending": 0, "sent": 0, "failed": 0} for pid in platform_ids}
    rows = db.session.execute(
        sa.select(ResourceLink.platform_id, ScorePost.status, sa.func.count())
        .join(ResourceLink, ResourceLink.id == ScorePost.link_id)
        .where(ResourceLink.platform_id.in_(platform_ids))
        .group_by(ResourceLink.platform_id, ScorePost.status)
    )
    for platform_id, status, count in rows:
        counts[platform_id][status] = count
    return counts


def unsent_scores(platform: Platform, limit: int = 50) -> list[ScorePost]:
    """The platform's scores not yet sent (failed first, then oldest pending)."""
    return list(
        db.session.scalars(
            sa.select(ScorePost)
            .join(ResourceLink, ResourceLink.id == ScorePost.link_id)
            .where(ResourceLink.platform_id == platform.id, ScorePost.status != "sent")
            .order_by(ScorePost.status, ScorePost.created_at)
            .options(
                sa.orm.joinedload(ScorePost.link),
                sa.orm.joinedload(ScorePost.member).joinedload(LinkMember.user),
            )
            .limit(limit)
        )
    )
