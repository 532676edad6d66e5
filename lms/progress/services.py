"""Progress of a learner: status per module, best score, attempts, qualifications.

The seams for other features: ``passed_module_ids(user, at)`` (catalog prerequisites,
practical gating: pass ``at`` = the session's date), ``module_progress`` and
``my_training`` (dashboards), ``qualifications.current_for_users`` (matrices).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from lms.catalog import services as catalog
from lms.catalog.models import Module
from lms.extensions import db
from lms.progress import qualifications
from lms.progress.models import Qualification
from lms.progress.rules import Status, expires_soon, module_status
from lms.quiz import clock
from lms.quiz import services as quiz
from lms.quiz.models import Attempt
from lms.quiz.rules import attempt_window


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


def module_progress(
    user,
    module: Module,
    *,
    now: datetime | None = None,
    current: dict[str, Qualification] | None = None,
    scores: dict[str, float] | None = None,
) -> ModuleProgress:
    """The learner's progress in ``module`` (status, score, attempts, qualification)."""
    now = now or clock.now()
    current = qualifications.current_qualifications(user) if current is None else current
    scores = best_scores(user.id) if scores is None else scores
    version = module.current_version
    past = quiz.past_attempts(user.id, module.id)
    window = attempt_window(version.quiz_settings, past, now)
    opened = quiz.open_attempt(user.id, module.id)
    lessons = {lesson.slug for lesson in version.lessons}
    read = len(lessons & catalog.read_slugs(user, module.id))
    qualification = current.get(module.id)
    until = qualification.valid_until if qualification else None
    status = module_status(
        enrolled=catalog.enrolment_for(user, module.id) is not None,
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


def my_training(user, now: datetime | None = None) -> list[ModuleProgress]:
    """Every module open to ``user`` (enabled, or retired but taken), with progress.

    Finalises the learner's attempts whose deadline has passed first (flushes).
    """
    now = now or clock.now()
    quiz.finalise_overdue(user, now)
    modules = db.session.scalars(
        sa.select(Module).where(Module.current_version_id.isnot(None)).order_by(Module.id)
    )
    current = qualifications.current_qualifications(user)
    scores = best_scores(user.id)
    result = []
    for module in modules:
        if module.is_retired and module.id not in current and module.id not in scores:
            continue
        result.append(module_progress(user, module, now=now, current=current, scores=scores))
    return result
