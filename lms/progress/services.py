"""Progress of a learner: status per module, best score, attempts, qualifications.

The seams for other features: ``passed_module_ids(user, at)`` (catalog prerequisites,
practical gating: pass ``at`` = the session's date), ``module_progress`` and
``my_training`` (dashboards), ``qualifications.current_for_users`` (matrices).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from lms.catalog import services as catalog
from lms.catalog.models import Enrolment, LessonRead, Module
from lms.extensions import db
from lms.progress import qualifications
from lms.progress.models import Qualification
from lms.progress.rules import Status, expires_soon, module_status
from lms.quiz import clock
from lms.quiz import services as quiz
from lms.quiz.models import Attempt
from lms.quiz.rules import PastAttempt, attempt_window


@dataclass(frozen=True)
class ModuleProgress:
    module: Module
    status: Status
    #: Best scaled score (0..1) over the learner's submitted attempts, or None.
    best_score: float | None
    attempts_used: int
    #: None when the module sets no maximum.
    attempts_left: int | None
    cooldown_until: datetime | None
    open_attempt: Attempt | None
    #: The current qualification (valid or expired), or None.
    qualification: Qualification | None
    expires_soon: bool
    lessons_read: int
    lessons_total: int

    @property
    def may_start(self) -> bool:
        return self.status.code != "locked" and (
            self.attempts_left is None or self.attempts_left > 0
        )


def passed_module_ids(user, at: datetime | None = None) -> set[str]:
    """Ids of the modules ``user`` holds a qualification for that is valid at ``at``
    (default: now). A correction that withdrew or shortened it counts as it says."""
    if not getattr(user, "is_authenticated", False):
        return set()
    return qualifications.passed_module_ids(user, at or clock.now())


def best_scores(user_id: int) -> dict[str, float]:
    """Module id -> best scaled score of the learner's submitted attempts."""
    rows = db.session.execute(
        sa.select(Attempt.module_id, sa.func.max(Attempt.score_scaled))
        .where(Attempt.user_id == user_id, Attempt.state == "submitted")
        .group_by(Attempt.module_id)
    )
    return {module_id: float(score) for module_id, score in rows if score is not None}


@dataclass(frozen=True)
class LearningRecords:
    """One learner's quiz and reading records, by module id, read in a few queries."""

    #: Submitted attempts in time order.
    past: dict[str, list[PastAttempt]]
    #: The newest open attempt.
    opened: dict[str, Attempt]
    read: dict[str, set[str]]
    enrolled: set[str]
    #: Best scaled score of the submitted attempts (as ``best_scores``).
    best: dict[str, float]
    #: Every open attempt, newest first.
    open_attempts: tuple[Attempt, ...] = ()

    def has_overdue(self, now: datetime) -> bool:
        """True when an open attempt's deadline has passed (``finalise_overdue`` has work)."""
        return any(a.deadline is not None and a.deadline < now for a in self.open_attempts)


def learning_records(user_id: int, module_ids: list[str] | None = None) -> LearningRecords:
    """The learner's records in ``module_ids`` (default: every module): four queries,
    whatever the number of modules."""

    def of_modules(query: sa.Select, column) -> sa.Select:
        return query if module_ids is None else query.where(column.in_(module_ids))

    past: dict[str, list[PastAttempt]] = {}
    rows = db.session.execute(
        of_modules(
            sa.select(Attempt.module_id, Attempt.submitted_at, Attempt.passed, Attempt.score_scaled)
            .where(Attempt.user_id == user_id, Attempt.state == "submitted")
            .order_by(Attempt.submitted_at, Attempt.id),
            Attempt.module_id,
        )
    )
    best: dict[str, float] = {}
    for row in rows:
        if row.score_scaled is not None:
            best[row.module_id] = max(best.get(row.module_id, 0.0), float(row.score_scaled))
        past.setdefault(row.module_id, []).append(
            PastAttempt(row.submitted_at, bool(row.passed), row.score_scaled or 0.0)
        )
    opened: dict[str, Attempt] = {}
    open_attempts = db.session.scalars(
        of_modules(
            sa.select(Attempt)
            .where(Attempt.user_id == user_id, Attempt.state == "open")
            .order_by(Attempt.id.desc()),
            Attempt.module_id,
        )
    ).all()
    for attempt in open_attempts:
        opened.setdefault(attempt.module_id, attempt)
    read: dict[str, set[str]] = {}
    for module_id, slug in db.session.execute(
        of_modules(
            sa.select(LessonRead.module_id, LessonRead.lesson_slug).where(
                LessonRead.user_id == user_id
            ),
            LessonRead.module_id,
        )
    ):
        read.setdefault(module_id, set()).add(slug)
    enrolled = set(
        db.session.scalars(
            of_modules(
                sa.select(Enrolment.module_id).where(Enrolment.user_id == user_id),
                Enrolment.module_id,
            )
        )
    )
    return LearningRecords(past, opened, read, enrolled, best, tuple(open_attempts))


def module_progress(
    user,
    module: Module,
    *,
    now: datetime | None = None,
    current: dict[str, Qualification] | None = None,
    scores: dict[str, float] | None = None,
    records: LearningRecords | None = None,
    lessons: frozenset[str] | None = None,
) -> ModuleProgress:
    """The learner's progress in ``module`` (status, score, attempts, qualification).

    ``current``, ``scores``, ``records`` and ``lessons`` (the current version's lesson
    slugs) are read for this module alone when not given.
    """
    now = now or clock.now()
    current = qualifications.current_qualifications(user) if current is None else current
    records = learning_records(user.id, [module.id]) if records is None else records
    past = records.past.get(module.id, [])
    scores = records.best if scores is None else scores
    version = module.current_version
    lessons = catalog.lesson_slugs([version])[version.id] if lessons is None else lessons
    window = attempt_window(version.quiz_settings, past, now)
    opened = records.opened.get(module.id)
    read = len(lessons & records.read.get(module.id, set()))
    qualification = current.get(module.id)
    until = qualification.valid_until if qualification else None
    status = module_status(
        enrolled=module.id in records.enrolled,
        lessons_read=read,
        lessons_total=len(lessons),
        open_attempt=opened is not None,
        past=past,
        window=window,
        qualification_until=until,
        now=now,
    )
    return ModuleProgress(
        module=module,
        status=status,
        best_score=scores.get(module.id),
        attempts_used=window.used,
        attempts_left=window.left,
        cooldown_until=window.cooldown_until,
        open_attempt=opened,
        qualification=qualification,
        expires_soon=status.code == "passed" and expires_soon(until, now),
        lessons_read=read,
        lessons_total=len(lessons),
    )


def my_training(
    user, now: datetime | None = None, *, finalise: bool = True
) -> list[ModuleProgress]:
    """Every module open to ``user`` (enabled, or retired but taken), with progress.

    Finalises the learner's attempts whose deadline has passed first (flushes), unless
    ``finalise`` is False (the caller did). A fixed number of queries, whatever the
    number of modules.
    """
    now = now or clock.now()
    if finalise:
        quiz.finalise_overdue(user, now)
    modules = db.session.scalars(
        sa.select(Module)
        .where(Module.current_version_id.isnot(None))
        .options(joinedload(Module.current_version))
        .order_by(Module.id)
    ).all()
    current = qualifications.current_qualifications(user)
    records = learning_records(user.id)
    scores = records.best
    result = []
    shown = [
        module
        for module in modules
        if not (module.is_retired and module.id not in current and module.id not in scores)
    ]
    slugs = catalog.lesson_slugs([module.current_version for module in shown])
    for module in shown:
        result.append(
            module_progress(
                user,
                module,
                now=now,
                current=current,
                scores=scores,
                records=records,
                lessons=slugs[module.current_version_id],
            )
        )
    return result


def settled_training(user, now: datetime | None = None) -> list[ModuleProgress]:
    """``my_training`` for a page or an answer: the learner's overdue attempts are
    finalised and committed first, then the rows are read (read after the commit, so
    rendering them does not reload every expired row one query at a time)."""
    now = now or clock.now()
    quiz.finalise_overdue(user, now)
    db.session.commit()
    return my_training(user, now, finalise=False)
