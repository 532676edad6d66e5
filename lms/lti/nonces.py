"""The nonces of login initiations: issued once, usable by one launch, for a short time.

A launch whose nonce is unknown, expired or already used is refused: an id token
cannot be replayed, even by the browser it was meant for.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from lms.db_types import utcnow
from lms.extensions import db
from lms.lti.errors import LaunchRefused
from lms.lti.models import Nonce, Platform

#: Time from the login initiation to the launch (the platform's sign-in happens between).
NONCE_LIFETIME = timedelta(minutes=10)
#: Expired nonces are deleted after this (a launch with a deleted one is still refused).
KEEP_EXPIRED = timedelta(days=1)


def issue(nonce: str, platform: Platform, now: datetime | None = None) -> Nonce:
    """Remember ``nonce``, sent to ``platform`` with a login initiation."""
    now = now or utcnow()
    row = Nonce(
        nonce=nonce, platform_id=platform.id, issued_at=now, expires_at=now + NONCE_LIFETIME
    )
    db.session.add(row)
    db.session.flush()
    return row


def consume(nonce: str | None, platform: Platform, now: datetime | None = None) -> None:
    """Mark ``nonce`` used by a launch from ``platform``.

    Raises ``LaunchRefused``: ``malformed`` without a nonce, ``unknown_nonce`` when we
    never issued it to this platform or it has expired, ``replayed`` when a launch
    already used it. The conditional update makes two concurrent uses refuse one.
    """
    now = now or utcnow()
    if not isinstance(nonce, str) or not nonce or len(nonce) > 128:
        raise LaunchRefused("malformed", "nonce missing", platform)
    done = db.session.execute(
        sa.update(Nonce)
        .where(Nonce.nonce == nonce, Nonce.platform_id == platform.id)
        .where(Nonce.used_at.is_(None), Nonce.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount == 1:
        return
    row = db.session.scalar(
        sa.select(Nonce).where(Nonce.nonce == nonce, Nonce.platform_id == platform.id)
    )
    if row is not None and row.used_at is not None:
        raise LaunchRefused("replayed", "nonce already used", platform)
    raise LaunchRefused("unknown_nonce", "nonce unknown or expired", platform)


def purge(now: datetime | None = None) -> int:
    """Delete nonces expired for more than ``KEEP_EXPIRED``; return how many."""
    now = now or utcnow()
    done = db.session.execute(
        sa.delete(Nonce)
        .where(Nonce.expires_at < now - KEEP_EXPIRED)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount
