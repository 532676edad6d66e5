"""Fixtures of the results tests: quiz attempts with graded answers, written straight
into the tables (the results pages only read them), and a class of learners whose
answers give figures worked out by hand."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.catalog.models import Module, ModuleVersion
from lms.dashboard import results
from lms.quiz import grading, rules
from lms.quiz.models import Attempt, AttemptAnswer

#: Right and wrong responses to the test package ``alpha`` (7 questions, 1 point each).
RIGHT = {
    "single": "a",
    "multiple": ["a", "c"],
    "truth": True,
    "speed": 0.45,
    "pairs": {"a": "filling", "d": "support"},
    "order": ["hands", "suit"],
    "word": "first air",
}
WRONG = {
    "single": "b",
    "multiple": ["b"],
    "truth": False,
    "speed": 1.0,
    "pairs": {"a": "office", "d": "filling"},
    "order": ["suit", "hands"],
    "word": "second air",
}
#: Strong learners: right but for ``truth`` (they miss it) and ``order`` (nobody gets it).
STRONG = {**RIGHT, "truth": False, "order": WRONG["order"]}
#: Weak learners: only ``multiple`` (everybody gets it) and ``truth`` right.
WEAK = {**WRONG, "multiple": RIGHT["multiple"], "truth": True}


@pytest.fixture(autouse=True)
def fresh_figures(app):
    """Each test starts without remembered figures (the cache is per process)."""
    with app.app_context():
        results.figure_cache().clear()
    yield


@pytest.fixture()
def take_quiz(db, clock):
    """``take_quiz(learner, responses)``: a submitted, graded attempt at ``alpha``.

    Every question in ``drawn`` (default: the whole bank) is in the draw; those in
    ``responses`` have a saved answer, the others were never saved (score 0).
    """

    def take(learner, responses, *, module_id="alpha", drawn=None, minutes=10, version=None):
        module = db.session.get(Module, module_id)
        version = version or module.current_version
        bank = {question["id"]: question for question in version.questions}
        drawn = list(drawn or bank)
        grades = {qid: grading.grade(bank[qid], responses.get(qid)) for qid in drawn}
        raw = sum(grade.score for grade in grades.values())
        number = db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.max(Attempt.number), 0)).where(
                Attempt.user_id == learner.id, Attempt.module_id == module_id
            )
        )
        at = clock.now()
        attempt = Attempt(
            user_id=learner.id,
            module_id=module_id,
            version_id=version.id,
            registration=str(uuid.uuid4()),
            number=number + 1,
            started_at=at - timedelta(minutes=minutes),
            submitted_at=at,
            state="submitted",
            draw=[{"id": qid} for qid in drawn],
            score_raw=raw,
            score_max=float(len(drawn)),
            score_scaled=raw / len(drawn),
            passed=rules.has_passed(version.quiz_settings, raw, len(drawn)),
        )
        db.session.add(attempt)
        db.session.flush()
        for qid in drawn:
            if qid in responses:
                db.session.add(
                    AttemptAnswer(
                        attempt_id=attempt.id,
                        question_id=qid,
                        response=responses[qid],
                        saved_at=at,
                        score=grades[qid].score,
                        correct=grades[qid].correct,
                    )
                )
        db.session.commit()
        clock.advance(seconds=1)
        return attempt

    return take


@pytest.fixture()
def quiz_class(db, world, loaded, take_quiz, make_user):
    """Four Acme learners at ``alpha``: Ann and Ben strong (5 of 7), Cleo and Dan weak
    (2 of 7; Dan never saved ``word``), then Ann's retake with everything right. Other
    Chemicals' learner got everything right at the first go."""
    acme = world["learner"].organisation
    ann = world["learner"]
    ann.display_name = "Ann"
    people = {
        "ann": ann,
        "ben": make_user("learner", acme, display_name="Ben"),
        "cleo": make_user("learner", acme, display_name="Cleo"),
        "dan": make_user("learner", acme, display_name="Dan"),
    }
    take_quiz(people["ann"], STRONG)
    take_quiz(people["ben"], STRONG)
    take_quiz(people["cleo"], WEAK)
    take_quiz(people["dan"], {k: v for k, v in WEAK.items() if k != "word"}, minutes=20)
    take_quiz(people["ann"], RIGHT)
    take_quiz(world["other_learner"], RIGHT)
    db.session.commit()
    return people


def bulk_attempts(db, learners, clock) -> None:
    """Each learner's attempt at ``alpha`` (every other one right), plus a retake for a
    third of them; inserted together (for hundreds of learners)."""
    version = db.session.get(Module, "alpha").current_version
    bank = version.questions
    attempts, answers = [], []
    for index, learner in enumerate(learners):
        for number in range(1, 3 if index % 3 == 0 else 2):
            given = RIGHT if (index + number) % 2 else WRONG
            grades = [(q, grading.grade(q, given[q["id"]])) for q in bank]
            raw = sum(grade.score for _q, grade in grades)
            attempt = Attempt(
                user_id=learner.id,
                module_id="alpha",
                version_id=version.id,
                registration=str(uuid.uuid4()),
                number=number,
                started_at=clock.now() - timedelta(minutes=12),
                submitted_at=clock.now(),
                state="submitted",
                draw=[{"id": q["id"]} for q in bank],
                score_raw=raw,
                score_max=len(bank),
                score_scaled=raw / len(bank),
                passed=rules.has_passed(version.quiz_settings, raw, len(bank)),
            )
            attempts.append(attempt)
            answers.append((attempt, given, grades))
    db.session.add_all(attempts)
    db.session.flush()
    db.session.add_all(
        AttemptAnswer(
            attempt_id=attempt.id,
            question_id=question["id"],
            response=given[question["id"]],
            saved_at=clock.now(),
            score=grade.score,
            correct=grade.correct,
        )
        for attempt, given, grades in answers
        for question, grade in grades
    )
    db.session.commit()


def module_version(db, module_id: str = "alpha") -> ModuleVersion:
    return db.session.get(Module, module_id).current_version
