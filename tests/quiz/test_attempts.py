"""Attempt services: start, save, submit once; attempts, cooldown and time limit."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from lms.catalog import services as catalog
from lms.catalog.models import Lesson, Module
from lms.progress.models import Qualification
from lms.quiz import services
from lms.quiz.models import Attempt, AttemptAnswer
from lms.quiz.services import QuizError
from lms.xapi.models import Statement
from lms.xapi.validation import problems
from tests.quiz.helpers import attempt_form


@pytest.fixture()
def alpha(db, loaded):
    return db.session.get(Module, "alpha")


@pytest.fixture()
def learner(world):
    return world["learner"]


def take(db, learner, module, right=True, now=None):
    """Start, answer every question (right, wrong, or right for some ids) and submit."""
    attempt = services.start_attempt(learner, module, now)
    questions = services.questions_of(attempt)
    services.save_answers(
        attempt, attempt_form(questions, right), [q["id"] for q in questions], now
    )
    outcome = services.submit_attempt(attempt, now)
    db.session.commit()
    return outcome.attempt


def statements(db, kind=None):
    query = sa.select(Statement).order_by(Statement.id)
    if kind:
        query = query.where(Statement.kind == kind)
    return [json.loads(s.body) for s in db.session.scalars(query)]


def test_start_draws_the_settings_number_of_questions_and_fixes_the_draw(db, alpha, learner, clock):
    attempt = services.start_attempt(learner, alpha)
    db.session.commit()
    assert attempt.state == "open" and attempt.number == 1
    assert len(attempt.draw) == 7
    assert attempt.deadline == clock.now() + timedelta(minutes=20)
    assert attempt.registration == catalog.enrolment_for(learner, "alpha").registration
    again = services.start_attempt(learner, alpha)
    assert again.id == attempt.id and again.draw == attempt.draw


def test_staff_and_gated_learners_cannot_start(db, loaded, world):
    beta = db.session.get(Module, "beta")
    with pytest.raises(QuizError) as refused:
        services.start_attempt(world["learner"], beta)
    assert refused.value.reason == "gated"
    with pytest.raises(QuizError) as refused:
        services.start_attempt(world["trainer"], beta)
    assert refused.value.reason == "staff"


def test_answers_are_saved_as_the_learner_goes_last_write_wins(db, alpha, learner, clock):
    attempt = services.start_attempt(learner, alpha)
    question = next(q for q in services.questions_of(attempt) if q["type"] == "single_choice")
    name = f"q-{question['id']}"
    assert services.save_answers(attempt, MultiDict({name: "b"}), [question["id"]])
    assert services.save_answers(attempt, MultiDict({name: "a"}), [question["id"]])
    db.session.commit()
    rows = db.session.scalars(sa.select(AttemptAnswer)).all()
    assert [(r.question_id, r.response) for r in rows] == [(question["id"], "a")]


def test_a_full_pass_grades_writes_statements_and_a_qualification(db, alpha, learner, clock):
    attempt = take(db, learner, alpha)
    assert (attempt.state, attempt.passed, attempt.score_raw, attempt.score_max) == (
        "submitted",
        True,
        7.0,
        7.0,
    )
    answered = statements(db, "question.answered")
    assert len(answered) == 7
    for body in answered:
        assert body["result"]["success"] is True
        assert body["result"]["response"]
        assert body["context"]["registration"] == attempt.registration
        assert body["context"]["contextActivities"]["parent"][0]["id"].endswith("/modules/alpha")
        assert body["object"]["definition"]["interactionType"]
        assert body["object"]["definition"]["correctResponsesPattern"]
    [verdict] = statements(db, "attempt.passed")
    assert verdict["result"]["score"] == {"scaled": 1.0, "raw": 7.0, "min": 0.0, "max": 7.0}
    assert verdict["result"]["success"] is True and verdict["result"]["completion"] is True
    assert verdict["result"]["duration"].startswith("PT")
    assert all(problems(body) == [] for body in statements(db))
    [qualification] = db.session.scalars(sa.select(Qualification)).all()
    assert qualification.attempt_id == attempt.id and qualification.kind == "pass"
    assert statements(db, "module.completed") == []  # lessons not read


def test_completed_is_written_when_lessons_are_read_and_the_quiz_passed(db, alpha, learner):
    for lesson in db.session.scalars(
        sa.select(Lesson).where(Lesson.version_id == alpha.current_version_id)
    ):
        catalog.mark_read(learner, alpha, lesson)
    take(db, learner, alpha)
    [completed] = statements(db, "module.completed")
    assert completed["object"]["id"].endswith("/modules/alpha")


def test_a_failed_attempt_writes_failed_with_wrong_responses(db, alpha, learner, clock):
    attempt = take(db, learner, alpha, right=False)
    assert attempt.passed is False and attempt.score_raw == 0
    assert all(b["result"]["success"] is False for b in statements(db, "question.answered"))
    assert len(statements(db, "attempt.failed")) == 1
    assert db.session.scalars(sa.select(Qualification)).all() == []


def test_a_second_submit_changes_nothing(db, alpha, learner, clock):
    attempt = take(db, learner, alpha)
    count = len(statements(db))
    outcome = services.submit_attempt(attempt)
    db.session.commit()
    assert outcome.graded_now is False
    assert len(statements(db)) == count
    assert db.session.scalar(sa.select(sa.func.count(Qualification.id))) == 1
    assert not services.save_answers(attempt, MultiDict({}), [])


def test_cooldown_after_a_failed_attempt_then_retry(db, alpha, learner, clock):
    take(db, learner, alpha, right=False)
    with pytest.raises(QuizError) as refused:
        services.start_attempt(learner, alpha)
    assert refused.value.reason == "cooldown"
    assert refused.value.until == clock.now() + timedelta(minutes=60)
    clock.advance(minutes=61)
    assert services.start_attempt(learner, alpha).number == 2


def test_max_attempts_are_enforced_on_the_server(db, alpha, learner, clock):
    for _ in range(3):
        take(db, learner, alpha, right=False)
        clock.advance(minutes=61)
    with pytest.raises(QuizError) as refused:
        services.start_attempt(learner, alpha)
    assert refused.value.reason == "no_attempts_left"


def test_an_attempt_past_its_deadline_is_graded_with_what_was_saved_in_time(
    db, alpha, learner, clock
):
    attempt = services.start_attempt(learner, alpha)
    questions = services.questions_of(attempt)
    first, rest = questions[:3], questions[3:]
    services.save_answers(attempt, attempt_form(first), [q["id"] for q in first])
    db.session.commit()
    clock.advance(minutes=21)
    assert not services.save_answers(attempt, attempt_form(rest), [q["id"] for q in rest])
    outcome = services.submit_attempt(attempt)
    db.session.commit()
    assert outcome.attempt.score_raw == 3.0
    assert outcome.attempt.submitted_at == attempt.deadline


def test_overdue_attempts_are_finalised_when_the_learner_comes_back(db, alpha, learner, clock):
    attempt = services.start_attempt(learner, alpha)
    db.session.commit()
    clock.advance(hours=5)
    assert services.finalise_overdue(learner) == 1
    db.session.commit()
    db.session.refresh(attempt)
    assert attempt.state == "submitted" and attempt.passed is False


def test_the_attempt_is_graded_against_the_version_it_was_drawn_from(db, alpha, learner):
    attempt = services.start_attempt(learner, alpha)
    db.session.commit()
    assert attempt.version_id == alpha.current_version_id
    assert db.session.scalar(sa.select(sa.func.count(Attempt.id))) == 1


def test_completed_is_written_when_the_last_lesson_is_read_after_the_pass(
    db, alpha, learner, clock
):
    take(db, learner, alpha)
    assert statements(db, "module.completed") == []
    lessons = db.session.scalars(
        sa.select(Lesson).where(Lesson.version_id == alpha.current_version_id)
    ).all()
    for lesson in lessons:
        catalog.mark_read(learner, alpha, lesson)
        db.session.commit()
    completed = statements(db, "module.completed")
    assert len(completed) == 1
    assert completed[0]["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    catalog.mark_read(learner, alpha, lessons[-1])
    db.session.commit()
    assert len(statements(db, "module.completed")) == 1
