"""API tokens: create, revoke, authenticate. Services flush; the caller commits.

A token reads ``lms_<key id>_<secret>``. ``lms_<key id>`` is its prefix, stored in
clear to find the token and to recognise it in lists; the database keeps only the
SHA-256 of the whole token, compared in constant time. The secret has 256 bits of
entropy, so a fast hash is enough (no password stretching needed).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from lms import audit
from lms.api.models import SCOPES, ApiToken
from lms.auth import policy
from lms.auth.models import Organisation, User
from lms.errors import RuleError
from lms.extensions import db

TOKEN_MARK = "lms_"  # noqa: S105 (the visible mark of a token, not a secret)
#: ``lms_`` and 12 hexadecimal characters.
PREFIX_LENGTH = len(TOKEN_MARK) + 12
#: A token's last use is written at most this often (one UPDATE a minute, not per call).
TOUCH_INTERVAL = timedelta(minutes=1)
#: Longest token accepted in a header (longer ones are refused without a lookup).
MAX_TOKEN_LENGTH = 128


class TokenError(RuleError):
    """A token change the rules refuse; the message is for the person."""


@dataclass(frozen=True)
class IssuedToken:
    """A new token and its plain value, which exists only here: show it once."""

    token: ApiToken
    plain: str


def hash_token(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def new_token_value() -> tuple[str, str]:
    """A fresh ``(prefix, plain token)``."""
    prefix = TOKEN_MARK + secrets.token_hex(6)
    return prefix, f"{prefix}_{secrets.token_urlsafe(32)}"


def can_manage_tokens(actor: User, organisation: Organisation) -> bool:
    """An admin of the organisation, or the centre admin."""
    return actor.is_authenticated and policy.can_manage_organisation(actor, organisation)


def visible_tokens(actor: User) -> sa.Select:
    """The tokens ``actor`` (an admin) manages, newest first: all for a centre admin."""
    query = (
        sa.select(ApiToken)
        .options(joinedload(ApiToken.organisation), joinedload(ApiToken.created_by))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    if not policy.is_centre_admin(actor):
        query = query.where(ApiToken.organisation_id == actor.organisation_id)
    return query


def find_by_prefix(prefix: str) -> ApiToken | None:
    if not prefix.startswith(TOKEN_MARK) or len(prefix) != PREFIX_LENGTH:
        return None
    return db.session.scalar(sa.select(ApiToken).where(ApiToken.prefix == prefix))


def create_token(
    *,
    organisation: Organisation,
    name: str,
    scope: str,
    expires_at: datetime | None,
    by: User | None,
    now: datetime,
) -> IssuedToken:
    """Create a token of ``organisation``; return it with its plain value (shown once).

    ``by`` is the admin creating it (None from the command line). Raises
    ``PermissionError`` when ``by`` may not manage the organisation's tokens and
    ``TokenError`` for an empty name, an unknown scope or an expiry in the past.
    """
    if by is not None and not can_manage_tokens(by, organisation):
        raise PermissionError("may not manage this organisation's API tokens")
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise TokenError(_l("Give the token a name of at most 120 characters."), "name")
    if scope not in SCOPES:
        raise TokenError(_l("Choose read or write access."), "scope")
    if expires_at is not None and expires_at <= now:
        raise TokenError(_l("The expiry date must be in the future."), "expires_at")
    prefix, plain = new_token_value()
    token = ApiToken(
        organisation=organisation,
        name=name,
        prefix=prefix,
        secret_hash=hash_token(plain),
        scope=scope,
        created_by=by,
        created_at=now,
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    _audit(
        "api.token.created",
        token,
        by,
        {
            "name": name,
            "scope": scope,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return IssuedToken(token, plain)


def revoke_token(token: ApiToken, *, by: User | None, now: datetime) -> ApiToken:
    """Revoke ``token``: it stops working at once. Audited.

    Raises ``PermissionError`` when ``by`` may not manage it and ``TokenError`` when it
    is already revoked.
    """
    if by is not None and not can_manage_tokens(by, token.organisation):
        raise PermissionError("may not manage this organisation's API tokens")
    if token.is_revoked:
        raise TokenError(_l("This token is already revoked."))
    token.revoked_at = now
    token.revoked_by = by
    db.session.flush()
    _audit("api.token.revoked", token, by, {"name": token.name})
    return token


def authenticate(plain: str, now: datetime) -> ApiToken | None:
    """The usable token whose plain value is ``plain``, or None (unknown, wrong secret,
    revoked or expired)."""
    if not plain or len(plain) > MAX_TOKEN_LENGTH or not plain.isascii():
        return None
    token = find_by_prefix(plain[:PREFIX_LENGTH])
    if token is None or not hmac.compare_digest(token.secret_hash, hash_token(plain)):
        return None
    return token if token.is_usable(now) else None


def touch(token: ApiToken, now: datetime) -> bool:
    """Record that ``token`` was used, unless that was done less than a minute ago.

    One conditional UPDATE (two requests at once write it once); returns whether it
    wrote. The caller commits.
    """
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_INTERVAL:
        return False
    result = db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.id == token.id)
        .where(
            sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOUCH_INTERVAL)
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(token, "last_used_at", now)
    return bool(result.rowcount)


def _audit(action: str, token: ApiToken, by: User | None, details: dict) -> None:
    audit.record(
        action,
        actor=by,
        organisation_id=token.organisation_id,
        target_type="api_token",
        target_id=token.prefix,
        details={**details, "organisation": token.organisation.slug},
    )
