"""What a learner sees after submitting, by the module's ``review`` setting (pure).

``score``: the score only; ``wrong``: the score and which questions were not fully
right; ``full``: every question with the learner's response, the correct answer and
the feedback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lms.quiz import grading
from lms.quiz.draw import shown_question

REVIEW_MODES = ("score", "wrong", "full")


@dataclass(frozen=True)
class ReviewItem:
    number: int
    #: The question as shown during the attempt (no key).
    question: dict[str, Any]
    correct: bool
    score: float
    #: ``full`` only: the learner's response, the answer key and the feedback.
    response: Any = None
    key: Any = None
    feedback: dict[str, str] | None = None


def review_items(
    mode: str,
    questions: list[dict[str, Any]],
    draw: list[dict[str, Any]],
    saved: dict[str, Any],
) -> list[ReviewItem]:
    """The items to show for ``mode`` (none for ``score``; the wrong ones for ``wrong``)."""
    if mode not in ("wrong", "full"):
        return []
    entries = {entry["id"]: entry for entry in draw}
    items = []
    for number, question in enumerate(questions, start=1):
        response = saved.get(question["id"])
        grade = grading.grade(question, response)
        if mode == "wrong" and grade.correct:
            continue
        shown = shown_question(question, entries.get(question["id"], {}))
        if mode == "full":
            items.append(
                ReviewItem(
                    number,
                    shown,
                    grade.correct,
                    grade.score,
                    response,
                    grading.answer_key(question),
                    question.get("feedback"),
                )
            )
        else:
            items.append(ReviewItem(number, shown, grade.correct, grade.score))
    return items


def describe(question: dict[str, Any], response: Any) -> list[tuple[str, Any]]:
    """A response as lines to show: ``[(kind, value)]`` where kind is ``text`` (a
    language map of the question) or ``plain`` (text as typed, a number, true/false)."""
    if response is None or response == [] or response == {}:
        return []
    kind = question["type"]
    if kind in ("single_choice", "multiple_response", "ordering"):
        name = "items" if kind == "ordering" else "options"
        texts = {item["id"]: item["text"] for item in question[name]}
        ids = [response] if kind == "single_choice" else list(response)
        return [("text", texts[i]) for i in ids if i in texts]
    if kind == "matching":
        sources = {item["id"]: item["text"] for item in question["sources"]}
        targets = {item["id"]: item["text"] for item in question["targets"]}
        return [
            ("pair", (sources[s], targets[t]))
            for s, t in response.items()
            if s in sources and t in targets
        ]
    if kind == "true_false":
        return [("bool", bool(response))]
    return [("plain", response)]
