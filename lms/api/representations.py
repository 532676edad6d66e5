"""The JSON shapes of the API's resources, as ``openapi.py`` documents them.

Pure conversions of loaded objects to plain values: dates in ISO 8601 (UTC), texts of
modules and practical types as language maps (``{"en": ..., "fr": ...}``), people by
their opaque public id.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import current_app, url_for

from lms.auth.models import User
from lms.catalog.models import Module
from lms.practicals import booking as booking_rules
from lms.practicals import wording
from lms.practicals.models import Booking, PracticalSession, PracticalType
from lms.practicals.rules import Evaluation, MissingCondition
from lms.progress.models import Qualification
from lms.progress.services import ModuleProgress
from lms.xapi.models import Statement


def instant(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def page_url(path: str) -> str:
    """An absolute address of a page of the service, under its public base URL."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path


def module(item: Module) -> dict[str, Any]:
    version = item.current_version
    return {
        "id": item.id,
        "status": item.status,
        "version": version.label,
        "content_hash": version.content_hash,
        "title": version.title,
        "summary": version.summary,
        "sector": version.sector,
        "estimated_minutes": version.estimated_minutes,
        "validity_months": version.validity_months,
        "prerequisites": list(version.prerequisites),
        "pass_mark": version.quiz_settings.get("pass_mark"),
        "url": page_url(url_for("catalog.module", module_id=item.id)),
    }


def learner(user: User) -> dict[str, Any]:
    return {
        "id": user.public_id,
        "display_name": user.display_name,
        "email": user.email,
        "organisation": user.organisation.slug,
        "learner_category": user.learner_category,
        "sector": user.sector,
        "active": user.active,
        "created_at": instant(user.created_at),
    }


def person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.public_id, "display_name": user.display_name}


def qualification(item: Qualification | None, now: datetime) -> dict[str, Any] | None:
    if item is None:
        return None
    return {
        "code": item.code,
        "module_id": item.module_id,
        "kind": item.kind,
        "score": item.score_scaled,
        "issued_at": instant(item.issued_at),
        "valid_until": instant(item.valid_until),
        "valid": item.is_valid_at(now),
        "verify_url": page_url(url_for("progress.verify", code=item.code)),
    }


def module_progress(row: ModuleProgress, now: datetime) -> dict[str, Any]:
    return {
        "module_id": row.module.id,
        "title": row.module.current_version.title,
        "status": row.status.code,
        "status_until": instant(row.status.until),
        "best_score": row.best_score,
        "attempts_used": row.attempts_used,
        "attempts_left": row.attempts_left,
        "lessons_read": row.lessons_read,
        "lessons_total": row.lessons_total,
        "expires_soon": row.expires_soon,
        "qualification": qualification(row.qualification, now),
    }


def progress(
    user: User,
    rows: list[ModuleProgress],
    current: dict[str, Qualification],
    now: datetime,
) -> dict[str, Any]:
    return {
        "learner": learner(user),
        "at": instant(now),
        "modules": [module_progress(row, now) for row in rows],
        "qualifications": [qualification(item, now) for _module, item in sorted(current.items())],
    }


def practical_type(item: PracticalType) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "summary": item.summary,
        "room_kind": item.room_kind,
        "duration_minutes": item.duration_minutes,
        "default_capacity": item.default_capacity,
        "prerequisites": item.prerequisites,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def missing(item: MissingCondition, names: wording.Names) -> dict[str, Any]:
    link = wording.link(item)
    return {
        "key": item.key,
        "kind": item.kind,
        "reason": item.reason,
        "condition": item.condition.as_data() if item.condition else None,
        "detail": {key: _plain(value) for key, value in item.detail.items()},
        "text": wording.missing(item, names),
        "url": page_url(link) if link else None,
        "alternatives": [[missing(leaf, names) for leaf in branch] for branch in item.alternatives],
    }


def evaluation(result: Evaluation, names: wording.Names) -> dict[str, Any]:
    return {
        "eligible": result.eligible,
        "missing": [missing(item, names) for item in result.missing],
        "waived": [condition.key for condition in result.waived],
    }


def eligibility(
    user: User, practical: PracticalType, at: datetime, result: Evaluation, names: wording.Names
) -> dict[str, Any]:
    return {
        "learner": user.public_id,
        "practical_type": practical.id,
        "at": instant(at),
        **evaluation(result, names),
    }


def session(item: PracticalSession, counts: dict[str, int], now: datetime) -> dict[str, Any]:
    booked, waiting = counts.get("booked", 0), counts.get("waiting", 0)
    return {
        "id": item.public_id,
        "practical_type": {"id": item.type_id, "title": item.practical_type.title},
        "organisation": item.organisation.slug,
        "starts_at": instant(item.starts_at),
        "ends_at": instant(item.ends_at),
        "room": item.room,
        "trainer": person(item.trainer),
        "capacity": item.capacity,
        "seats_booked": booked,
        "seats_left": max(item.capacity - booked, 0),
        "waiting": waiting,
        "status": item.status,
        "booking_closes_at": instant(booking_rules.booking_closes_at(item)),
        "booking_open": booking_rules.is_open(item, now),
    }


def booking(item: Booking) -> dict[str, Any]:
    return {
        "id": item.registration,
        "session": item.session.public_id,
        "learner": person(item.learner),
        "state": item.state,
        "position": item.position,
        "created_at": instant(item.created_at),
        "promoted_at": instant(item.promoted_at),
        "cancelled_at": instant(item.cancelled_at),
    }


def statement(item: Statement) -> dict[str, Any]:
    return {
        "id": item.uuid,
        "kind": item.kind,
        "verb": item.verb,
        "object_id": item.object_id,
        "occurred_at": instant(item.occurred_at),
        "stored_at": instant(item.created_at),
        "statement": json.loads(item.body),
    }
