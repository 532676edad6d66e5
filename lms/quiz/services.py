"""The attempt rules and writes: start, save answers, submit (once), finalise overdue.

Services flush and write the statements and records they owe; the request commits
once. ``now`` defaults to ``clock.now()`` so that tests can move time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.catalog import services as catalog
from lms.catalog.models import Module
from lms.cmi5 import tracking as cmi5
from lms.extensions import db
from lms.lti import grades as lti_grades
from lms.progress import qualifications
from lms.quiz import clock, grading, recording, responses, rules
from lms.quiz.draw import draw_questions
from lms.quiz.models import Attempt, AttemptAnswer
from lms.quiz.rules import PastAttempt, Window


class QuizError(Exception):
    """The rules refuse to start or continue an attempt.

    ``reason``: ``staff`` (trainers and admins preview only), ``gated`` (prerequisites
    or a retired module), ``no_quiz``, ``cooldown`` (see ``until``), ``no_attempts_left``.
    """

    def __init__(self, reason: str, until: datetime | None = None):
        super().__init__(reason)
        self.reason = reason
        self.until = until


@dataclass(frozen=True)
class Outcome:
    attempt: Attempt
    #: True for the one request that graded the attempt; False for a repeat.
    graded_now: bool


def past_attempts(user_id: int, module_id: str) -> list[PastAttempt]:
    """The learner's submitted attempts at the module, oldest first."""
    rows = db.session.execute(
        sa.select(Attempt.submitted_at, Attempt.passed, Attempt.score_scaled)
        .where(Attempt.user_id == user_id, Attempt.module_id == module_id)
        .where(Attempt.state == "submitted")
        .order_by(Attempt.submitted_at, Attempt.id)
    )
    return [
        PastAttempt(row.submitted_at, bool(row.passed), row.score_scaled or 0.0) for row in rows
    ]


def open_attempt(user_id: int, module_id: str) -> Attempt | None:
    return db.session.scalar(
        sa.select(Attempt)
        .where(Attempt.user_id == user_id, Attempt.module_id == module_id)
        .where(Attempt.state == "open")
        .order_by(Attempt.id.desc())
        .limit(1)
    )


def window_for(user, module: Module, now: datetime | None = None) -> Window:
    """Attempts left and cooldown of ``user`` for the module's current quiz."""
    now = now or clock.now()
    settings = module.current_version.quiz_settings
    return rules.attempt_window(settings, past_attempts(user.id, module.id), now)


def find_attempt(public_id: str, user) -> Attempt | None:
    """The attempt with ``public_id`` if it belongs to ``user``; None otherwise."""
    if not user.is_authenticated or not public_id or len(public_id) > 36:
        return None
    return db.session.scalar(
        sa.select(Attempt).where(Attempt.public_id == public_id, Attempt.user_id == user.id)
    )


def start_attempt(user, module: Module, now: datetime | None = None) -> Attempt:
    """Start an attempt, or return the learner's open one (a second tab, a double click).

    Draws the questions with a seeded RNG and fixes the draw on the attempt. Raises
    ``QuizError`` when the learner may not start (see its reasons).
    """
    now = now or clock.now()
    if not catalog.records_learning(user):
        raise QuizError("staff")
    version = module.current_version
    if not version.questions:
        raise QuizError("no_quiz")
    enrolment = catalog.enrolment_for(user, module.id)
    if catalog.gate(user, module, enrolment, catalog.prerequisites_of(user, module)):
        raise QuizError("gated")
    finalise_overdue(user, now, module_id=module.id)
    existing = open_attempt(user.id, module.id)
    if existing is not None:
        return existing
    window = window_for(user, module, now)
    if window.blocked:
        raise QuizError(window.blocked, window.cooldown_until)
    enrolment = catalog.open_module(user, module)
    return _insert_attempt(user, module, enrolment.registration, now)


def _insert_attempt(user, module: Module, registration: str, now: datetime) -> Attempt:
    version = module.current_version
    settings = version.quiz_settings
    number = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.max(Attempt.number), 0)).where(
            Attempt.user_id == user.id, Attempt.module_id == module.id
        )
    )
    seed = random.SystemRandom().getrandbits(64)
    attempt = Attempt(
        user_id=user.id,
        module_id=module.id,
        version_id=version.id,
        registration=registration,
        number=number + 1,
        started_at=now,
        deadline=rules.deadline_for(settings, now),
        state="open",
        draw=draw_questions(
            version.questions,
            settings["questions_per_attempt"],
            seed=seed,
            balance_topics=settings.get("balance_topics", False),
            shuffle_options=settings.get("shuffle_options", True),
        ),
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        existing = open_attempt(user.id, module.id)
        if existing is None:
            raise
        return existing
    return attempt


def questions_of(attempt: Attempt) -> list[dict[str, Any]]:
    """The attempt's questions (with keys: server side only), in the order drawn."""
    bank = {question["id"]: question for question in attempt.version.questions}
    return [bank[entry["id"]] for entry in attempt.draw if entry["id"] in bank]


def _claim_open(attempt: Attempt, now: datetime) -> bool:
    """Lock the attempt's row while it is open and within its deadline; False otherwise.

    The conditional UPDATE takes the row lock on PostgreSQL (SQLite has one writer),
    so a save and a submit of the same attempt never interleave.
    """
    if attempt.deadline is not None and now > attempt.deadline:
        return False
    done = db.session.execute(
        sa.update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.state == "open")
        .values(state="open")
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def save_answers(attempt: Attempt, form, question_ids: list[str], now: datetime | None = None):
    """Save the responses in ``form`` to the attempt's questions ``question_ids``.

    The last save of a question wins. Returns False (and saves nothing) when the
    attempt is submitted or its deadline has passed.
    """
    now = now or clock.now()
    if not _claim_open(attempt, now):
        return False
    wanted = set(question_ids)
    questions = [q for q in questions_of(attempt) if q["id"] in wanted]
    stored = {
        answer.question_id: answer
        for answer in db.session.scalars(
            sa.select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)
        )
    }
    for question in questions:
        response = responses.parse(question, form)
        answer = stored.get(question["id"])
        if answer is None:
            db.session.add(
                AttemptAnswer(
                    attempt_id=attempt.id,
                    question_id=question["id"],
                    response=response,
                    saved_at=now,
                )
            )
        else:
            answer.response, answer.saved_at = response, now
    db.session.flush()
    return True


def saved_responses(attempt: Attempt) -> dict[str, Any]:
    """Question id -> the response saved for it (within the deadline)."""
    answers = db.session.scalars(
        sa.select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)
    )
    return _within_deadline(attempt, answers)


def _within_deadline(attempt: Attempt, answers) -> dict[str, Any]:
    return {
        answer.question_id: answer.response
        for answer in answers
        if attempt.deadline is None or answer.saved_at <= attempt.deadline
    }


def submit_attempt(attempt: Attempt, now: datetime | None = None) -> Outcome:
    """Submit and grade the attempt exactly once; later calls change nothing.

    An attempt past its deadline is graded with what was saved before the deadline
    and counts as submitted at the deadline. Writes the statements (answered per
    question, passed or failed, and completed), and a qualification on a pass.
    """
    now = now or clock.now()
    submitted_at = min(now, attempt.deadline) if attempt.deadline else now
    done = db.session.execute(
        sa.update(Attempt)
        .where(Attempt.id == attempt.id, Attempt.state == "open")
        .values(state="submitted", submitted_at=submitted_at)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(attempt)
    if done.rowcount != 1:
        return Outcome(attempt, False)
    _grade(attempt, now)
    return Outcome(attempt, True)


def _grade(attempt: Attempt, now: datetime) -> None:
    rows = {a.question_id: a for a in attempt.answers}
    saved = _within_deadline(attempt, rows.values())
    grades = []
    for question in questions_of(attempt):
        response = saved.get(question["id"])
        grade = grading.grade(question, response)
        grades.append((question, response, grade))
        if question["id"] in rows:
            rows[question["id"]].score = grade.score
            rows[question["id"]].correct = grade.correct
    attempt.score_raw = round(sum(g.score for _q, _r, g in grades), 6)
    attempt.score_max = float(sum(g.max for _q, _r, g in grades))
    attempt.score_scaled = (
        round(attempt.score_raw / attempt.score_max, 6) if attempt.score_max else 0.0
    )
    settings = attempt.version.quiz_settings
    attempt.passed = rules.has_passed(settings, attempt.score_raw, attempt.score_max)
    db.session.flush()
    recording.record_attempt(attempt, grades)
    lti_grades.attempt_graded(attempt)
    cmi5.quiz_graded(attempt, now)
    if attempt.passed:
        # Last: the qualification's audit record takes the audit chain's lock, which is
        # held until the commit, so passing submissions of all learners queue there;
        # everything else (statements above all) is done before.
        qualifications.issue_for_pass(attempt, attempt.version.validity_months, now)


def finalise_overdue(user, now: datetime | None = None, module_id: str | None = None) -> int:
    """Submit the learner's open attempts whose deadline has passed; return how many."""
    now = now or clock.now()
    query = (
        sa.select(Attempt)
        .where(Attempt.user_id == user.id, Attempt.state == "open")
        .where(Attempt.deadline.isnot(None), Attempt.deadline < now)
    )
    if module_id is not None:
        query = query.where(Attempt.module_id == module_id)
    overdue = list(db.session.scalars(query))
    return sum(1 for attempt in overdue if submit_attempt(attempt, now).graded_now)


def submitted_attempts(user_id: int, module_id: str) -> list[Attempt]:
    """The learner's submitted attempts at the module, newest first."""
    return list(
        db.session.scalars(
            sa.select(Attempt)
            .where(Attempt.user_id == user_id, Attempt.module_id == module_id)
            .where(Attempt.state == "submitted")
            .order_by(Attempt.number.desc())
        )
    )
