"""What a validated launch does: find or provision the person, remember the resource
link, and carry the launch to its next step through a single-use token.

Services flush; the request commits once. A refused launch leaves nothing behind but
its audit record (written by ``record_refusal`` after the rollback).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from lms import audit
from lms.auth import services as accounts
from lms.auth.models import User
from lms.catalog import services as catalog
from lms.catalog.models import Module
from lms.db_types import utcnow
from lms.extensions import db
from lms.lti import claims, roles, tokens
from lms.lti.errors import LaunchRefused
from lms.lti.models import Identity, LinkMember, Platform, ResourceLink
from lms.lti.tool import is_our_url
from lms.lti.validation import ToolMessageLaunch

#: Domain of the placeholder e-mail of people whose platform shares no address.
PLACEHOLDER_DOMAIN = "lti.invalid"


@dataclass(frozen=True)
class Landing:
    """Where a resource-link launch leads: ``user`` opens ``module``."""

    user: User
    module: Module
    link: ResourceLink


def accept_resource_launch(launch: ToolMessageLaunch, now: datetime | None = None) -> Landing:
    """Provision or find the launched person and record the link; audited.

    Raises ``LaunchRefused`` (``target``, ``no_module``, ``other_organisation``,
    ``account_refused``) before anything is written.
    """
    now = now or utcnow()
    platform, body = launch.platform, launch.body
    module = _module_for(platform, body)
    user, identity = _user_for(platform, body, now)
    link = _record_link(platform, body, module, now)
    _record_member(link, user, identity, now)
    platform.last_launch_at = now
    audit.record(
        "lti.launch",
        actor=user,
        organisation_id=platform.organisation_id,
        target_type="module",
        target_id=module.id,
        details={"platform": platform.id, "resource_link": link.link_id, "role": user.role},
    )
    db.session.flush()
    return Landing(user, module, link)


def accept_deep_linking(launch: ToolMessageLaunch) -> str:
    """A teacher's request to choose a module: return the token of the choice page.

    Raises ``LaunchRefused("not_instructor")`` for anyone who may not choose content.
    """
    platform, body = launch.platform, launch.body
    _check_target(platform, body)
    if not roles.may_choose_content(_roles(body)):
        raise LaunchRefused("not_instructor", platform=platform)
    settings = body[claims.DEEP_LINKING_SETTINGS]
    if urlsplit(str(settings.get("deep_link_return_url", ""))).scheme not in ("http", "https"):
        raise LaunchRefused("malformed", "deep_link_return_url", platform)
    context = body.get(claims.CONTEXT) or {}
    payload = {
        "deployment_id": body[claims.DEPLOYMENT_ID],
        "settings": settings,
        "subject": body["sub"],
        "context_title": context.get("title") if isinstance(context, dict) else None,
    }
    return tokens.issue_token("deep_link", platform, payload)


def _roles(body: dict[str, Any]) -> list[str]:
    claimed = body.get(claims.ROLES) or []
    return [role for role in claimed if isinstance(role, str)]


def _check_target(platform: Platform, body: dict[str, Any]) -> str:
    target = body.get(claims.TARGET_LINK_URI)
    if not is_our_url(target):
        raise LaunchRefused("target", str(target)[:200], platform)
    return target


def _module_for(platform: Platform, body: dict[str, Any]) -> Module:
    """The module the launch is for: its custom parameter, else its target link URI."""
    target = _check_target(platform, body)
    custom = body.get(claims.CUSTOM)
    module_id = custom.get(claims.MODULE_PARAMETER) if isinstance(custom, dict) else None
    if not module_id:
        base = current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/modules/"
        module_id = target[len(base) :].split("/")[0] if target.startswith(base) else None
    module = catalog.find_module(str(module_id)) if module_id else None
    if module is None:
        raise LaunchRefused("no_module", str(module_id), platform)
    return module


# People --------------------------------------------------------------------------------


def _user_for(platform: Platform, body: dict[str, Any], now: datetime) -> tuple[User, Identity]:
    """The launched person's account: found by identity, else by e-mail within the
    platform's organisation, else created there. Provisioned accounts take the role the
    platform gives (at most admin of the organisation; at most trainer in the centre)."""
    mapped = roles.map_roles(_roles(body), cap=_role_cap(platform))
    identity = _find_identity(body["iss"], str(body["sub"]))
    if identity is None:
        try:
            with db.session.begin_nested():
                identity = _new_identity(platform, body, mapped)
        except IntegrityError:  # a concurrent launch of the same person won
            identity = _find_identity(body["iss"], str(body["sub"]))
            if identity is None:
                raise
    user = identity.user
    _check_usable(platform, user)
    if identity.provisioned and user.role != mapped:
        audit.record(
            "lti.user.role_changed",
            actor_label=f"lti:{platform.issuer}"[:254],
            organisation_id=platform.organisation_id,
            target_type="user",
            target_id=user.public_id,
            details={"role": [user.role, mapped], "platform": platform.id},
        )
        user.role = mapped
    return user, identity


def _role_cap(platform: Platform) -> str:
    return "trainer" if platform.organisation.is_centre else "admin"


def _find_identity(issuer: str, subject: str) -> Identity | None:
    return db.session.scalar(
        sa.select(Identity).where(Identity.issuer == issuer, Identity.subject == subject)
    )


def _new_identity(platform: Platform, body: dict[str, Any], role: str) -> Identity:
    email = _claimed_email(body)
    user = accounts.find_user_by_email(email) if email else None
    provisioned = user is None
    if user is not None:
        _check_usable(platform, user)
    else:
        user = _provision(platform, body, email, role)
    identity = Identity(
        issuer=body["iss"],
        subject=str(body["sub"]),
        user=user,
        platform_id=platform.id,
        provisioned=provisioned,
    )
    db.session.add(identity)
    db.session.flush()
    audit.record(
        "lti.user.provisioned" if provisioned else "lti.user.matched",
        actor=user,
        organisation_id=platform.organisation_id,
        target_type="user",
        target_id=user.public_id,
        details={"platform": platform.id, "issuer": body["iss"], "subject": body["sub"]},
    )
    return identity


def _check_usable(platform: Platform, user: User) -> None:
    if user.organisation_id != platform.organisation_id:
        raise LaunchRefused("other_organisation", user.public_id, platform)
    if not user.active or user.is_centre_admin:
        raise LaunchRefused("account_refused", user.public_id, platform)


def _claimed_email(body: dict[str, Any]) -> str | None:
    email = body.get("email")
    if not isinstance(email, str) or len(email) > 254 or email.count("@") != 1:
        return None
    return accounts.normalise_email(email) or None


def _provision(platform: Platform, body: dict[str, Any], email: str | None, role: str) -> User:
    digest = hashlib.sha256(f"{body['iss']}\n{body['sub']}".encode()).hexdigest()[:24]
    return accounts.create_user(
        email=email or f"lti-{digest}@{PLACEHOLDER_DOMAIN}",
        display_name=_display_name(platform, body),
        password=secrets.token_urlsafe(32),
        organisation=platform.organisation,
        role=role,
        language=_language(body),
    )


def _display_name(platform: Platform, body: dict[str, Any]) -> str:
    """The platform's ``name``, else given and family names, else the platform and sub."""
    for parts in ([body.get("name")], [body.get("given_name"), body.get("family_name")]):
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
        if name:
            return name[:120]
    return f"{platform.name} {str(body['sub'])[:8]}"[:120]


def _language(body: dict[str, Any]) -> str | None:
    presentation = body.get(claims.LAUNCH_PRESENTATION)
    locale = presentation.get("locale") if isinstance(presentation, dict) else None
    language = str(locale or "")[:2].lower()
    return language if language in current_app.config["LANGUAGES"] else None


# Links ---------------------------------------------------------------------------------


def _record_link(
    platform: Platform, body: dict[str, Any], module: Module, now: datetime
) -> ResourceLink:
    link_id = str(body[claims.RESOURCE_LINK]["id"])[:255]
    link = _insert_once(
        ResourceLink(
            platform_id=platform.id,
            deployment_id=body[claims.DEPLOYMENT_ID],
            link_id=link_id,
            module_id=module.id,
            created_at=now,
        ),
        lambda: db.session.scalar(
            sa.select(ResourceLink).where(
                ResourceLink.platform_id == platform.id, ResourceLink.link_id == link_id
            )
        ),
    )
    resource = body[claims.RESOURCE_LINK]
    context = body.get(claims.CONTEXT) if isinstance(body.get(claims.CONTEXT), dict) else {}
    ags = body.get(claims.AGS_ENDPOINT) if isinstance(body.get(claims.AGS_ENDPOINT), dict) else {}
    link.module_id = module.id
    link.deployment_id = body[claims.DEPLOYMENT_ID]
    link.title = _text(resource.get("title"))
    link.context_id = _text(context.get("id"))
    link.context_title = _text(context.get("title"))
    link.lineitem_url = _text(ags.get("lineitem"), 1000) or link.lineitem_url
    link.lineitems_url = _text(ags.get("lineitems"), 1000)
    link.ags_scopes = [s for s in ags.get("scope") or [] if isinstance(s, str)]
    link.last_launch_at = now
    return link


def _record_member(link: ResourceLink, user: User, identity: Identity, now: datetime):
    member = _insert_once(
        LinkMember(
            link_id=link.id,
            user_id=user.id,
            identity_id=identity.id,
            first_launch_at=now,
            last_launch_at=now,
        ),
        lambda: db.session.scalar(
            sa.select(LinkMember).where(
                LinkMember.link_id == link.id, LinkMember.user_id == user.id
            )
        ),
    )
    member.identity_id = identity.id
    member.last_launch_at = now
    return member


def _text(value: Any, length: int = 255) -> str | None:
    return str(value)[:length] if isinstance(value, str | int) and str(value) else None


def _insert_once(row, find_existing):
    """Insert ``row`` in a savepoint; on a unique clash return ``find_existing()``."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return find_existing()
    return row


def open_continuation(token: str) -> tuple[User, str]:
    """Use a ``continue`` token: the user to log in and the module they launched."""
    row = tokens.find_token("continue", token)
    tokens.consume_token(row)
    user = db.session.get(User, row.user_id)
    _check_usable(row.platform, user)
    return user, row.payload["module_id"]


# Refusals ------------------------------------------------------------------------------


def record_refusal(refusal: LaunchRefused, claimed_issuer: str | None) -> None:
    """Audit a refused login initiation or launch (call after rolling back the request)."""
    platform = refusal.platform
    audit.record(
        "lti.launch.refused",
        actor_label=f"lti:{claimed_issuer or 'unknown'}"[:254],
        organisation_id=platform.organisation_id if platform else None,
        target_type="lti_platform",
        target_id=platform.id if platform else "",
        details={"reason": refusal.reason, "detail": refusal.detail[:300]},
    )
