"""Loading the records of many learners at once: a fixed number of queries per call,
whatever the number of learners (no query per learner)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from lms.catalog.models import Enrolment, Lesson, LessonRead, Module, ModuleVersion
from lms.dashboard.cells import ModuleRecords
from lms.extensions import db
from lms.practicals import records as signed_records
from lms.practicals.models import Booking, PracticalSession, PracticalType, SignOff
from lms.progress import qualifications
from lms.progress.models import Qualification
from lms.quiz.models import Attempt
from lms.quiz.rules import PastAttempt


@dataclass(frozen=True)
class Columns:
    """The matrix's columns: modules with their current lessons, then practical types."""

    modules: list[Module]
    #: Module id -> slugs of the current version's lessons.
    lessons: dict[str, frozenset[str]]
    practical_types: list[PracticalType]


def columns() -> Columns:
    """Every module with a loaded version and every practical type (3 queries).

    Of each current version only the title and quiz settings are read (a version row
    also holds the whole question bank, which the dashboards do not need).
    """
    version = sa.orm.joinedload(Module.current_version).load_only(
        ModuleVersion.title, ModuleVersion.quiz_settings
    )
    modules = list(
        db.session.scalars(
            sa.select(Module)
            .where(Module.current_version_id.is_not(None))
            .options(version)
            .order_by(Module.id)
        )
    )
    version_to_module = {m.current_version_id: m.id for m in modules}
    lessons: dict[str, set[str]] = {m.id: set() for m in modules}
    if version_to_module:
        rows = db.session.execute(
            sa.select(Lesson.version_id, Lesson.slug).where(
                Lesson.version_id.in_(list(version_to_module))
            )
        )
        for version_id, slug in rows:
            lessons[version_to_module[version_id]].add(slug)
    types = list(db.session.scalars(sa.select(PracticalType).order_by(PracticalType.id)))
    return Columns(modules, {k: frozenset(v) for k, v in lessons.items()}, types)


@dataclass
class LearnerRecords:
    """Per (learner id, module id): module records; per (learner id, type id): the
    effective sign-off's outcome, and whether a live booking exists."""

    modules: dict[tuple[int, str], ModuleRecords] = field(default_factory=dict)
    outcomes: dict[tuple[int, str], str] = field(default_factory=dict)
    booked: set[tuple[int, str]] = field(default_factory=set)


def _pairs(query: sa.Select) -> set[tuple]:
    return {(first, second) for first, second in db.session.execute(query)}


def _module_records(user_ids: list[int]) -> dict[tuple[int, str], ModuleRecords]:
    enrolled = _pairs(
        sa.select(Enrolment.user_id, Enrolment.module_id).where(Enrolment.user_id.in_(user_ids))
    )
    reads: dict[tuple[int, str], set[str]] = defaultdict(set)
    for user_id, module_id, slug in db.session.execute(
        sa.select(LessonRead.user_id, LessonRead.module_id, LessonRead.lesson_slug)
        .where(LessonRead.user_id.in_(user_ids))
        .distinct()
    ):
        reads[(user_id, module_id)].add(slug)
    past: dict[tuple[int, str], list[PastAttempt]] = defaultdict(list)
    for row in db.session.execute(
        sa.select(
            Attempt.user_id,
            Attempt.module_id,
            Attempt.submitted_at,
            Attempt.passed,
            Attempt.score_scaled,
        )
        .where(Attempt.user_id.in_(user_ids), Attempt.state == "submitted")
        .order_by(Attempt.submitted_at, Attempt.id)
    ):
        past[(row.user_id, row.module_id)].append(
            PastAttempt(row.submitted_at, bool(row.passed), row.score_scaled or 0.0)
        )
    opened = _pairs(
        sa.select(Attempt.user_id, Attempt.module_id).where(
            Attempt.user_id.in_(user_ids), Attempt.state == "open"
        )
    )
    current = qualifications.current_for_users(user_ids)
    keys = enrolled | set(reads) | set(past) | opened | set(current)
    return {
        key: ModuleRecords(
            enrolled=key in enrolled,
            read_slugs=frozenset(reads.get(key, ())),
            open_attempt=key in opened,
            past=tuple(past.get(key, ())),
            qualification_until=current[key].valid_until if key in current else None,
        )
        for key in keys
    }


def practical_records(user_ids: list[int] | sa.Select) -> tuple[dict[tuple[int, str], str], set]:
    """Per (learner id, type id): the effective sign-off's outcome; and the pairs with a
    live booking of a session not cancelled. ``user_ids``: a list or a select of ids."""
    query = (
        signed_records.effective_sign_offs()
        .where(SignOff.learner_id.in_(user_ids))
        .with_only_columns(SignOff.learner_id, SignOff.type_id, SignOff.outcome)
        .order_by(SignOff.signed_at, SignOff.id)
    )
    outcomes = {
        (learner, type_id): outcome for learner, type_id, outcome in db.session.execute(query)
    }
    booked = _pairs(
        sa.select(Booking.learner_id, PracticalSession.type_id)
        .join(PracticalSession, Booking.session_id == PracticalSession.id)
        .where(Booking.learner_id.in_(user_ids), Booking.state != "cancelled")
        .where(PracticalSession.status != "cancelled")
    )
    return outcomes, booked


def learner_records(user_ids: list[int]) -> LearnerRecords:
    """The module and practical records of ``user_ids`` (8 queries; none when empty)."""
    if not user_ids:
        return LearnerRecords()
    outcomes, booked = practical_records(user_ids)
    return LearnerRecords(_module_records(user_ids), outcomes, booked)


def expiry_window(user_ids: list[int] | sa.Select, now: datetime, until: datetime) -> list:
    """Current qualifications of ``user_ids`` (a list or a select of ids) valid now and
    ending by ``until``, soonest first. The window is applied in the database, so only
    the qualifications shown are loaded."""
    corrected = sa.select(Qualification.corrects_id).where(Qualification.corrects_id.is_not(None))
    newest = (
        sa.select(sa.func.max(Qualification.id))
        .where(Qualification.user_id.in_(user_ids), Qualification.id.not_in(corrected))
        .group_by(Qualification.user_id, Qualification.module_id)
    )
    query = (
        sa.select(Qualification)
        .where(Qualification.id.in_(newest))
        .where(Qualification.valid_until > now, Qualification.valid_until <= until)
        .order_by(Qualification.valid_until, Qualification.user_id, Qualification.module_id)
    )
    return list(db.session.scalars(query))
