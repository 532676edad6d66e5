"""Writing and verifying the audit trail.

Each record's hash covers its content and the previous record's hash, so altering or
removing a record breaks the chain from that point on. Writers serialise on a lock
(PostgreSQL advisory lock; SQLite allows one writer anyway) and ``prev_hash`` is unique,
so two writers can never both extend the same record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lms.audit.models import GENESIS, AuditRecord
from lms.db_types import utcnow
from lms.extensions import db

#: Key of the PostgreSQL advisory lock that serialises writers of the chain.
AUDIT_LOCK_KEY = 7_215_001


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def compute_hash(
    *,
    prev_hash: str,
    occurred_at: datetime,
    actor_id: int | None,
    actor_label: str,
    organisation_id: int | None,
    action: str,
    target_type: str,
    target_id: str,
    details: str,
) -> str:
    """The SHA-256 of a record's content chained to ``prev_hash``."""
    content = canonical_json(
        {
            "prev": prev_hash,
            "at": occurred_at.isoformat(timespec="microseconds"),
            "actor_id": actor_id,
            "actor": actor_label,
            "org": organisation_id,
            "action": action,
            "target": [target_type, target_id],
            "details": details,
        }
    )
    return hashlib.sha256(content.encode()).hexdigest()


def _lock_chain() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(AUDIT_LOCK_KEY)))


def record(
    action: str,
    *,
    actor=None,
    organisation_id: int | None = None,
    target_type: str = "",
    target_id: str | int = "",
    details: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditRecord:
    """Append one record to the trail in the current transaction and return it.

    ``actor`` is a ``User`` or None (the system, or an anonymous visitor whose claimed
    identity goes in ``actor_label``). A user is labelled by their opaque ``public_id``,
    never their name or e-mail: records cannot be rewritten, and a pseudonymised
    learner's trail must not keep either. The caller's commit makes it permanent.
    """
    _lock_chain()
    last = db.session.scalar(sa.select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1))
    fields = {
        "prev_hash": last or GENESIS,
        "occurred_at": utcnow(),
        "actor_id": actor.id if actor is not None else None,
        "actor_label": actor_label or (actor.public_id if actor is not None else "system"),
        "organisation_id": organisation_id
        if organisation_id is not None
        else (actor.organisation_id if actor is not None else None),
        "action": action,
        "target_type": target_type,
        "target_id": str(target_id),
        "details": canonical_json(details or {}),
    }
    entry = AuditRecord(**fields, hash=compute_hash(**fields))
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass(frozen=True)
class ChainBreak:
    record_id: int
    reason: str


def verify(batch_size: int = 1000) -> ChainBreak | None:
    """Walk the whole trail; return the first broken record, or None when it is intact."""
    expected_prev = GENESIS
    for entry in _iterate(batch_size):
        if entry.prev_hash != expected_prev:
            return ChainBreak(entry.id, "does not follow the record before it (one was removed)")
        recomputed = compute_hash(
            prev_hash=entry.prev_hash,
            occurred_at=entry.occurred_at,
            actor_id=entry.actor_id,
            actor_label=entry.actor_label,
            organisation_id=entry.organisation_id,
            action=entry.action,
            target_type=entry.target_type,
            target_id=entry.target_id,
            details=entry.details,
        )
        if recomputed != entry.hash:
            return ChainBreak(entry.id, "its content was altered after it was written")
        expected_prev = entry.hash
    return None


def _iterate(batch_size: int) -> Iterator[sa.Row]:
    """The stored rows as the database holds them now (never the session's cached objects)."""
    table = AuditRecord.__table__
    last_id = 0
    while True:
        rows = db.session.execute(
            sa.select(table)
            .where(AuditRecord.id > last_id)
            .order_by(AuditRecord.id)
            .limit(batch_size)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
