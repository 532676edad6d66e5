"""This tool's RSA keys: the current one signs, retired ones stay published a while.

Platforms fetch our JWKS to check what we sign (deep-linking responses, the
client-credentials JWT of the grade service) and cache it. After a rotation the
retired key stays in the JWKS for ``RETIRED_KEY_GRACE``, so nothing signed just before
the rotation, nor a platform's cached copy, breaks; then its private half is erased.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from jwcrypto.jwk import JWK
from sqlalchemy.exc import IntegrityError

from lms import audit
from lms.db_types import utcnow
from lms.extensions import db
from lms.lti.models import ToolKey

#: How long a retired key stays in our JWKS.
RETIRED_KEY_GRACE = timedelta(days=7)
KEY_SIZE = 2048


def _new_key(now: datetime) -> ToolKey:
    key = JWK.generate(kty="RSA", size=KEY_SIZE)
    kid = key.thumbprint()
    public = json.loads(key.export_public())
    public.update({"kid": kid, "alg": "RS256", "use": "sig"})
    pem = key.export_to_pem(private_key=True, password=None).decode()
    return ToolKey(kid=kid, private_pem=pem, public_jwk=public, is_current=True, created_at=now)


def current_key() -> ToolKey | None:
    return db.session.scalar(sa.select(ToolKey).where(ToolKey.is_current.is_(True)))


def ensure_current_key(now: datetime | None = None) -> ToolKey:
    """The current signing key, created on first need (two first needs at once agree)."""
    key = current_key()
    if key is not None:
        return key
    try:
        with db.session.begin_nested():
            key = _new_key(now or utcnow())
            db.session.add(key)
    except IntegrityError:
        key = current_key()
        if key is None:
            raise
    return key


def rotate(*, by=None, now: datetime | None = None) -> ToolKey:
    """Make a new current key; retire the previous one; erase keys past their grace.

    Audited. Returns the new key.
    """
    now = now or utcnow()
    previous = current_key()
    if previous is not None:
        previous.is_current = False
        previous.retired_at = now
        db.session.flush()
    key = _new_key(now)
    db.session.add(key)
    expired = db.session.scalars(
        sa.select(ToolKey).where(
            ToolKey.retired_at < now - RETIRED_KEY_GRACE, ToolKey.private_pem.isnot(None)
        )
    )
    for old in expired:
        old.private_pem = None
    db.session.flush()
    audit.record(
        "lti.key.rotated",
        actor=by,
        target_type="lti_key",
        target_id=key.kid,
        details={"retired": previous.kid if previous else None},
    )
    return key


def published_keys(now: datetime | None = None) -> list[ToolKey]:
    """The current key and the retired keys still within their grace, newest first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(ToolKey)
            .where(
                sa.or_(
                    ToolKey.is_current.is_(True),
                    ToolKey.retired_at >= now - RETIRED_KEY_GRACE,
                )
            )
            .order_by(ToolKey.created_at.desc(), ToolKey.id.desc())
        )
    )


def jwks(now: datetime | None = None) -> dict[str, list[dict[str, Any]]]:
    """Our JSON Web Key Set: public halves only."""
    return {"keys": [dict(key.public_jwk) for key in published_keys(now)]}


def all_keys() -> list[ToolKey]:
    """Every key ever made, newest first (the admin page's history)."""
    return list(
        db.session.scalars(sa.select(ToolKey).order_by(ToolKey.created_at.desc(), ToolKey.id))
    )


def published_until(key: ToolKey) -> datetime | None:
    """When a retired key leaves the JWKS; None for the current key."""
    return key.retired_at + RETIRED_KEY_GRACE if key.retired_at else None
