"""What a launched session reports as the learner works: the calls the quiz and the
catalog make (``quiz_graded``, ``lesson_read``), and the completion rule.

An AU session is found by the learner and the module: the newest ``open`` session (a
new launch abandons the older ones). Nothing happens for people without one, nor in
Browse and Review launches, which report no completion or result (cmi5, section 10).

The rules (cmi5, 9.3): in a session one of passed or failed at most (later attempts in
the same session are not reported); in a registration one completed, one passed, and
no failed after it. Passed means a scaled score at or above the LMS's masteryScore (or
the module's own pass mark when the LMS gives none). Completed means the learner has
read every lesson and, for a module with a quiz, submitted an attempt in a Normal
session of this registration.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from lms.catalog.models import LessonRead, Module
from lms.cmi5 import outbox
from lms.cmi5.models import Cmi5Session
from lms.cmi5.statements import Outcome, judge
from lms.extensions import db


def open_session(user_id: int, module_id: str) -> Cmi5Session | None:
    """The learner's open AU session for the module, or None."""
    return db.session.scalar(
        sa.select(Cmi5Session)
        .where(Cmi5Session.user_id == user_id, Cmi5Session.module_id == module_id)
        .where(Cmi5Session.state == "open")
        .order_by(Cmi5Session.id.desc())
        .limit(1)
    )


def quiz_graded(attempt, at: datetime) -> None:
    """Report a graded quiz attempt to the learner's launching LMS, if any.

    Called by the quiz in the transaction that grades ``attempt``: queues ``passed`` or
    ``failed`` (first judged attempt of the session, none after a pass in the
    registration) and ``completed`` when that is now due.
    """
    session = open_session(attempt.user_id, attempt.module_id)
    if session is None or not session.records_results:
        return
    registration = session.registration
    if registration.quiz_submitted_at is None:
        registration.quiz_submitted_at = at
    if session.judged is None and registration.passed_at is None:
        scaled = round(attempt.score_scaled or 0.0, 4)
        success = judge(scaled, session.mastery_score, bool(attempt.passed))
        verb = "passed" if success else "failed"
        submitted = attempt.submitted_at or at
        outbox.record(
            session,
            verb,
            submitted,
            duration=max(0.0, (submitted - attempt.started_at).total_seconds()),
            outcome=Outcome(scaled, success, attempt.score_raw, attempt.score_max),
        )
        session.judged = verb
        if success:
            registration.passed_at = submitted
    complete_if_done(session, at)
    db.session.flush()


def lesson_read(user, module_id: str, at: datetime) -> None:
    """Report that a lesson read may complete the module; called when one is marked read."""
    session = open_session(user.id, module_id)
    if session is not None:
        complete_if_done(session, at)
        db.session.flush()


def is_complete(session: Cmi5Session) -> bool:
    """Whether the learner has now done everything the module asks (see module doc)."""
    module = db.session.get(Module, session.module_id)
    version = module.current_version if module else None
    if version is None:
        return False
    lessons = {lesson.slug for lesson in version.lessons}
    read = set(
        db.session.scalars(
            sa.select(LessonRead.lesson_slug).where(
                LessonRead.user_id == session.user_id, LessonRead.module_id == session.module_id
            )
        )
    )
    if not lessons <= read:
        return False
    return not version.questions or session.registration.quiz_submitted_at is not None


def complete_if_done(session: Cmi5Session, at: datetime) -> bool:
    """Queue ``completed`` once per registration when it is due; True if queued now."""
    registration = session.registration
    if not session.is_open or not session.records_results or registration.completed_at:
        return False
    if not is_complete(session):
        return False
    duration = max(0.0, (at - session.initialized_at).total_seconds())
    statement = outbox.record(session, "completed", at, duration=duration)
    registration.completed_at = statement.occurred_at
    return True
