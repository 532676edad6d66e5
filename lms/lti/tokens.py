"""Single-use, short-lived tokens that carry a validated launch to its next step.

Only a token's SHA-256 is stored; the token itself travels in the URL of the next
step (a capability: the platform's frame does not carry our session cookie).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from lms.auth.models import User
from lms.db_types import utcnow
from lms.extensions import db
from lms.lti.errors import LaunchRefused
from lms.lti.models import LaunchToken, Platform

TOKEN_LIFETIMES = {"deep_link": timedelta(hours=1), "continue": timedelta(minutes=2)}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    kind: str, platform: Platform, payload: dict[str, Any], *, user: User | None = None
) -> str:
    """A new single-use token of ``kind`` carrying ``payload``; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        LaunchToken(
            token_hash=_hash(token),
            kind=kind,
            platform_id=platform.id,
            user_id=user.id if user else None,
            payload=payload,
            created_at=now,
            expires_at=now + TOKEN_LIFETIMES[kind],
        )
    )
    db.session.flush()
    return token


def find_token(kind: str, token: str, now: datetime | None = None) -> LaunchToken:
    """The unused, unexpired token of ``kind``; ``LaunchRefused("token")`` otherwise."""
    now = now or utcnow()
    row = db.session.scalar(sa.select(LaunchToken).where(LaunchToken.token_hash == _hash(token)))
    if row is None or row.kind != kind:
        raise LaunchRefused("token", "unknown token")
    if row.used_at is not None or row.expires_at <= now:
        raise LaunchRefused("token", "used or expired token", row.platform)
    return row


def consume_token(row: LaunchToken, now: datetime | None = None) -> None:
    """Mark the token used; refuse (``token``) if another request used it first."""
    done = db.session.execute(
        sa.update(LaunchToken)
        .where(LaunchToken.id == row.id, LaunchToken.used_at.is_(None))
        .values(used_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise LaunchRefused("token", "token used concurrently", row.platform)


def purge(now: datetime | None = None) -> int:
    """Delete tokens expired for more than a day; return how many."""
    now = now or utcnow()
    done = db.session.execute(
        sa.delete(LaunchToken)
        .where(LaunchToken.expires_at < now - timedelta(days=1))
        .execution_options(synchronize_session=False)
    )
    return done.rowcount
