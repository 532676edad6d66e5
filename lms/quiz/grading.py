"""Grading: one pure function per question type, every question worth 1 point.

A question is a normalised dict of ``ModuleVersion.questions`` (see
``lms.catalog.questions``); a response is what ``responses.parse`` made of the form:

- ``single_choice``: an option id or None
- ``multiple_response``: a list of option ids
- ``true_false``: a bool or None
- ``numeric``: a float or None
- ``matching``: a dict source id -> target id
- ``ordering``: a list of item ids
- ``short_text``: a text or None
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: The most a question scores.
QUESTION_MAX = 1.0
#: Room for binary floating point in numeric comparisons (0.1 + 0.2 is not 0.3).
_EPSILON = 1e-9


@dataclass(frozen=True)
class Grade:
    score: float
    max: float
    #: True when the response earned full marks.
    correct: bool


def grade(question: dict[str, Any], response: Any) -> Grade:
    """Grade ``response`` to ``question``; the score is always within [0, max].

    Raises ``KeyError`` for an unknown question type.
    """
    share = _GRADERS[question["type"]](question, response)
    share = min(1.0, max(0.0, share))
    return Grade(share * QUESTION_MAX, QUESTION_MAX, share >= 1.0)


def normalise_text(text: str, *, accent_sensitive: bool = False) -> str:
    """``text`` compared as answers are: case folded, spaces trimmed and collapsed,
    accents removed unless ``accent_sensitive`` (``Stérile`` -> ``sterile``)."""
    text = unicodedata.normalize("NFKD", text)
    if not accent_sensitive:
        text = "".join(char for char in text if not unicodedata.combining(char))
    text = unicodedata.normalize("NFC", text).casefold()
    return " ".join(text.split())


def _ids(response: Any) -> list[str]:
    """A list of ids from ``response``; anything else counts as no answer."""
    if not isinstance(response, list | tuple):
        return []
    return [item for item in response if isinstance(item, str)]


def _single(question: dict, response: Any) -> float:
    return 1.0 if isinstance(response, str) and response == question["answer"] else 0.0


def _multiple(question: dict, response: Any) -> float:
    ticked = set(_ids(response))
    wanted = set(question["answer"])
    if not question.get("partial_credit"):
        return 1.0 if ticked == wanted else 0.0
    options = [option["id"] for option in question["options"]]
    if not ticked & set(options):
        return 0.0  # left unanswered: no credit for the options it happens not to tick
    right = sum(1 for option in options if (option in ticked) == (option in wanted))
    return right / len(options)


def _true_false(question: dict, response: Any) -> float:
    return 1.0 if isinstance(response, bool) and response == question["answer"] else 0.0


def _numeric(question: dict, response: Any) -> float:
    if not isinstance(response, int | float) or isinstance(response, bool):
        return 0.0
    if not math.isfinite(response):
        return 0.0
    answer = float(question["answer"])
    room = float(question.get("tolerance") or 0) + _EPSILON * max(1.0, abs(answer))
    return 1.0 if abs(float(response) - answer) <= room else 0.0


def _matching(question: dict, response: Any) -> float:
    given = response if isinstance(response, dict) else {}
    answer = question["answer"]
    right = sum(1 for source, target in answer.items() if given.get(source) == target)
    if question.get("partial_credit"):
        return right / len(answer)
    return 1.0 if right == len(answer) else 0.0


def _ordering(question: dict, response: Any) -> float:
    wanted = [item["id"] for item in question["items"]]
    return 1.0 if _ids(response) == wanted else 0.0


def _short_text(question: dict, response: Any) -> float:
    if not isinstance(response, str) or not response.strip():
        return 0.0
    sensitive = bool(question.get("accent_sensitive"))
    given = normalise_text(response, accent_sensitive=sensitive)
    accepted = {normalise_text(text, accent_sensitive=sensitive) for text in question["accepted"]}
    return 1.0 if given in accepted else 0.0


_GRADERS: dict[str, Callable[[dict, Any], float]] = {
    "single_choice": _single,
    "multiple_response": _multiple,
    "true_false": _true_false,
    "numeric": _numeric,
    "matching": _matching,
    "ordering": _ordering,
    "short_text": _short_text,
}


def answer_key(question: dict[str, Any]) -> Any:
    """The response that scores full marks (for tests and the full review)."""
    kind = question["type"]
    if kind == "multiple_response":
        return list(question["answer"])
    if kind == "matching":
        return dict(question["answer"])
    if kind == "ordering":
        return [item["id"] for item in question["items"]]
    if kind == "short_text":
        return question["accepted"][0]
    return question["answer"]
