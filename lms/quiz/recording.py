"""The xAPI statements of a submitted attempt.

Called by ``services.submit_attempt`` inside the submitting transaction: one
``answered`` per drawn question, then ``passed`` or ``failed`` for the attempt, and on
a pass ``completed`` for the module when its lessons are read. (The qualification a
pass leaves behind is issued by the service, last.)
"""

from __future__ import annotations

from typing import Any

from lms import xapi
from lms.catalog import services as catalog
from lms.quiz import responses
from lms.quiz.grading import Grade

#: The assessment's name: "Quiz: <module title>" in each language of the title.
_QUIZ_NAME = {"en": "Quiz: {}", "fr": "Quiz : {}"}


def assessment_activity(module_id: str, title: dict[str, str]) -> xapi.Activity:
    name = {lang: _QUIZ_NAME.get(lang, "Quiz: {}").format(text) for lang, text in title.items()}
    return xapi.Activity(kind="assessment", path=f"modules/{module_id}/quiz", name=name)


def question_activity(module_id: str, question: dict[str, Any]) -> xapi.Activity:
    return xapi.Activity(
        kind="question",
        path=f"modules/{module_id}/questions/{question['id']}",
        name=question["prompt"],
        interaction=responses.interaction(question),
    )


def record_attempt(attempt, grades: list[tuple[dict, Any, Grade]]) -> None:
    """Write the attempt's statements (see module doc)."""
    learner, module = attempt.user, attempt.module
    parent = catalog.module_activity(module)
    events = []
    for question, response, grade in grades:
        events.append(
            _event(
                attempt,
                "question.answered",
                question_activity(module.id, question),
                parent,
                xapi.Result(
                    score_raw=grade.score,
                    score_min=0.0,
                    score_max=grade.max,
                    success=grade.correct,
                    response=responses.xapi_response(question, response),
                ),
            )
        )
    duration = (attempt.submitted_at - attempt.started_at).total_seconds()
    events.append(
        _event(
            attempt,
            "attempt.passed" if attempt.passed else "attempt.failed",
            assessment_activity(module.id, attempt.version.title),
            parent,
            xapi.Result(
                score_raw=attempt.score_raw,
                score_min=0.0,
                score_max=attempt.score_max,
                success=bool(attempt.passed),
                completion=True,
                duration_seconds=max(0.0, duration),
                extensions={"attempt-number": attempt.number},
            ),
        )
    )
    if attempt.passed:
        lessons = {lesson.slug for lesson in attempt.version.lessons}
        if lessons <= catalog.read_slugs(learner, module.id):
            events.append(
                _event(
                    attempt,
                    "module.completed",
                    parent,
                    None,
                    xapi.Result(success=True, completion=True),
                )
            )
    # One write for all of them (statements, then deliveries), in this order.
    xapi.record_many(events)


def _event(attempt, kind: str, activity, parent, result) -> xapi.LearningEvent:
    return xapi.LearningEvent(
        kind=kind,
        learner=attempt.user,
        activity=activity,
        occurred_at=attempt.submitted_at,
        registration=attempt.registration,
        parent=parent,
        result=result,
    )
