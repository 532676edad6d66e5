"""Everything the service holds about one person, as JSON-ready data (GDPR Art. 15, 20).

One query per kind of record, whatever their number, each filtered by the person's own
id: nothing of anyone else's records can come along. Records signed by a trainer keep
the signer's printed name, which is part of the record (the signature).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, selectinload

from lms.audit.models import AuditRecord
from lms.auth.models import User
from lms.catalog.models import Enrolment, Lesson, LessonRead, ModuleVersion
from lms.dashboard.models import Cohort, CohortMember
from lms.db_types import utcnow
from lms.extensions import db
from lms.practicals.models import Attendance, Booking, PracticalSession, SignOff, Waiver
from lms.progress.models import Qualification
from lms.quiz.models import Attempt
from lms.xapi.models import LrsEndpoint, Statement, StatementDelivery

#: Version of the export's layout.
FORMAT = "lms-personal-data/1"


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def personal_data(user: User) -> dict[str, Any]:
    """All the data about ``user``, by kind of record."""
    config = current_app.config
    return {
        "format": FORMAT,
        "service": config["PLATFORM_NAME"],
        "service_address": config["PUBLIC_BASE_URL"],
        "exported_at": _at(utcnow()),
        "profile": profile(user),
        "account_events": account_events(user),
        "enrolments": enrolments(user),
        "lesson_reads": lesson_reads(user),
        "quiz_attempts": quiz_attempts(user),
        "qualifications": qualifications(user),
        "practical_bookings": bookings(user),
        "practical_attendance": attendance(user),
        "practical_sign_offs": sign_offs(user),
        "waivers": waivers(user),
        "cohorts": cohorts(user),
        "xapi_statements": statements(user),
    }


def profile(user: User) -> dict[str, Any]:
    return {
        "id": user.public_id,
        "email": user.email,
        "name": user.display_name,
        "role": user.role,
        "organisation": {"name": user.organisation.name, "short_name": user.organisation.slug},
        "learner_category": user.learner_category,
        "sector": user.sector,
        "language": user.language,
        "active": user.active,
        "created_at": _at(user.created_at),
        "last_login_at": _at(user.last_login_at),
    }


def account_events(user: User) -> list[dict[str, Any]]:
    """The audit trail of the account: log-ins, lock-outs, password and profile changes,
    and what admins changed on it. Who else acted is not given, only whether it was you;
    details only for changes to the account itself."""
    rows = db.session.scalars(
        sa.select(AuditRecord)
        .where(
            sa.or_(
                sa.and_(AuditRecord.actor_id == user.id, AuditRecord.action.startswith("auth.")),
                sa.and_(AuditRecord.target_type == "user", AuditRecord.target_id == user.public_id),
            )
        )
        .order_by(AuditRecord.id)
    )
    return [
        {
            "at": _at(row.occurred_at),
            "event": row.action,
            "by_you": row.actor_id == user.id,
            "details": json.loads(row.details) if row.action.startswith("user.") else {},
        }
        for row in rows
    ]


def enrolments(user: User) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        sa.select(Enrolment).where(Enrolment.user_id == user.id).order_by(Enrolment.id)
    )
    return [
        {
            "module": row.module_id,
            "registration": row.registration,
            "enrolled_at": _at(row.enrolled_at),
            "last_opened_at": _at(row.last_launched_at),
        }
        for row in rows
    ]


def lesson_reads(user: User) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(LessonRead, ModuleVersion.label, Lesson.title)
        .join(ModuleVersion, ModuleVersion.id == LessonRead.version_id)
        .outerjoin(
            Lesson,
            sa.and_(
                Lesson.version_id == LessonRead.version_id, Lesson.slug == LessonRead.lesson_slug
            ),
        )
        .where(LessonRead.user_id == user.id)
        .order_by(LessonRead.id)
    )
    return [
        {
            "module": read.module_id,
            "module_version": label,
            "lesson": read.lesson_slug,
            "lesson_title": title,
            "read_at": _at(read.read_at),
        }
        for read, label, title in rows
    ]


def quiz_attempts(user: User) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(Attempt, ModuleVersion.label)
        .join(ModuleVersion, ModuleVersion.id == Attempt.version_id)
        .where(Attempt.user_id == user.id)
        .options(selectinload(Attempt.answers))
        .order_by(Attempt.id)
    )
    return [
        {
            "id": attempt.public_id,
            "module": attempt.module_id,
            "module_version": label,
            "number": attempt.number,
            "registration": attempt.registration,
            "started_at": _at(attempt.started_at),
            "deadline": _at(attempt.deadline),
            "submitted_at": _at(attempt.submitted_at),
            "state": attempt.state,
            "questions": [item.get("id") for item in attempt.draw or []],
            "score": attempt.score_raw,
            "score_max": attempt.score_max,
            "score_scaled": attempt.score_scaled,
            "passed": attempt.passed,
            "answers": [
                {
                    "question": answer.question_id,
                    "response": answer.response,
                    "saved_at": _at(answer.saved_at),
                    "score": answer.score,
                    "correct": answer.correct,
                }
                for answer in attempt.answers
            ],
        }
        for attempt, label in rows
    ]


def qualifications(user: User) -> list[dict[str, Any]]:
    corrected = aliased(Qualification)
    attempt = aliased(Attempt)
    rows = db.session.execute(
        sa.select(Qualification, ModuleVersion.label, corrected.code, attempt.public_id)
        .join(ModuleVersion, ModuleVersion.id == Qualification.version_id)
        .outerjoin(corrected, corrected.id == Qualification.corrects_id)
        .outerjoin(attempt, attempt.id == Qualification.attempt_id)
        .where(Qualification.user_id == user.id)
        .order_by(Qualification.id)
    )
    return [
        {
            "code": row.code,
            "kind": row.kind,
            "module": row.module_id,
            "module_version": label,
            "attempt": attempt_id,
            "score_scaled": row.score_scaled,
            "issued_at": _at(row.issued_at),
            "valid_until": _at(row.valid_until),
            "corrects": corrects,
            "reason": row.reason,
        }
        for row, label, corrects, attempt_id in rows
    ]


def _session(session: PracticalSession) -> dict[str, Any]:
    return {
        "id": session.public_id,
        "practical": session.type_id,
        "starts_at": _at(session.starts_at),
        "ends_at": _at(session.ends_at),
        "room": session.room,
        "status": session.status,
    }


def bookings(user: User) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(Booking, PracticalSession)
        .join(PracticalSession, PracticalSession.id == Booking.session_id)
        .where(Booking.learner_id == user.id)
        .order_by(Booking.id)
    )
    return [
        {
            "registration": booking.registration,
            "session": _session(session),
            "state": booking.state,
            "place": booking.position,
            "booked_at": _at(booking.created_at),
            "given_a_seat_at": _at(booking.promoted_at),
            "cancelled_at": _at(booking.cancelled_at),
            "cancelled_by_you": booking.cancelled_by_id == user.id
            if booking.cancelled_at
            else None,
        }
        for booking, session in rows
    ]


def attendance(user: User) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(Attendance.checked_in_at, PracticalSession.public_id)
        .join(PracticalSession, PracticalSession.id == Attendance.session_id)
        .where(Attendance.learner_id == user.id)
        .order_by(Attendance.id)
    )
    return [{"session": session_id, "checked_in_at": _at(at)} for at, session_id in rows]


def sign_offs(user: User) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(SignOff, PracticalSession.public_id)
        .join(PracticalSession, PracticalSession.id == SignOff.session_id)
        .where(SignOff.learner_id == user.id)
        .order_by(SignOff.id)
    )
    return [
        {
            "id": row.id,
            "session": session_id,
            "practical": row.type_id,
            "outcome": row.outcome,
            "comments": row.comments,
            "corrects": row.corrects_id,
            "signed_by": row.signer_name,
            "meaning": row.meaning,
            "signed_at": _at(row.signed_at),
        }
        for row, session_id in rows
    ]


def waivers(user: User) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(Waiver, PracticalSession.public_id)
        .outerjoin(PracticalSession, PracticalSession.id == Waiver.session_id)
        .where(Waiver.learner_id == user.id)
        .order_by(Waiver.id)
    )
    return [
        {
            "practical": row.type_id,
            "condition": row.condition_key,
            "reason": row.reason,
            "session": session_id,
            "signed_by": row.signer_name,
            "meaning": row.meaning,
            "signed_at": _at(row.signed_at),
        }
        for row, session_id in rows
    ]


def cohorts(user: User) -> list[dict[str, Any]]:
    rows = db.session.execute(
        sa.select(Cohort.name, Cohort.archived_at, CohortMember.added_at)
        .join(CohortMember, CohortMember.cohort_id == Cohort.id)
        .where(CohortMember.user_id == user.id)
        .order_by(CohortMember.id)
    )
    return [
        {"name": name, "added_at": _at(added), "archived": archived is not None}
        for name, archived, added in rows
    ]


def statements(user: User) -> list[dict[str, Any]]:
    """The xAPI statements about ``user``, as stored, and which LRSs they went to."""
    sent: dict[int, list[dict[str, Any]]] = defaultdict(list)
    deliveries = db.session.execute(
        sa.select(
            StatementDelivery.statement_id,
            LrsEndpoint.name,
            StatementDelivery.state,
            StatementDelivery.delivered_at,
        )
        .join(LrsEndpoint, LrsEndpoint.id == StatementDelivery.endpoint_id)
        .join(Statement, Statement.id == StatementDelivery.statement_id)
        .where(Statement.user_id == user.id)
        .order_by(StatementDelivery.id)
    )
    for statement_id, name, state, delivered_at in deliveries:
        sent[statement_id].append({"lrs": name, "state": state, "delivered_at": _at(delivered_at)})
    rows = db.session.scalars(
        sa.select(Statement).where(Statement.user_id == user.id).order_by(Statement.id)
    )
    return [
        {
            "stored_at": _at(row.created_at),
            "statement": json.loads(row.body),
            "sent_to": sent.get(row.id, []),
        }
        for row in rows
    ]
