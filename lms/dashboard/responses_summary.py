"""How often each answer of a question was given, in words a trainer reads.

Takes the question (from the version's bank) and the counts of each stored response
(as the database grouped them), returns one line per option for choice and true/false
questions, and the most frequent responses for the other types. Texts are in the
page's language.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from lms.practicals.wording import localized
from lms.quiz import grading, responses

#: For questions without options: how many distinct responses are listed.
TOP_RESPONSES = 3


@dataclass(frozen=True)
class AnswerCount:
    text: str
    count: int
    #: True: a right answer; False: a wrong one; None: a mix (other responses).
    correct: bool | None
    #: ``count`` as a share of the attempts that drew the question.
    share: float | None


def decode(text: str | None) -> Any:
    """A stored response from its JSON text; None for no response or bad JSON."""
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def summarise_answers(
    question: dict[str, Any], counts: Iterable[tuple[Any, int]], drawn: int
) -> tuple[list[AnswerCount], int]:
    """The answer lines of ``question`` from ``(response, count)`` pairs, and how many of
    the ``drawn`` attempts left it unanswered."""
    given = [(response, count) for response, count in counts if responses.is_answered(response)]
    unanswered = max(drawn - sum(count for _r, count in given), 0)

    def share(count: int) -> float | None:
        return count / drawn if drawn else None

    kind = question["type"]
    if kind in ("single_choice", "multiple_response"):
        lines = _options(question, given)
    elif kind == "true_false":
        lines = _true_false(question, given)
    else:
        lines = _frequent(question, given)
    return [AnswerCount(text, n, ok, share(n)) for text, n, ok in lines], unanswered


def _options(question: dict, given: list[tuple[Any, int]]) -> list[tuple[str, int, bool]]:
    single = question["type"] == "single_choice"
    key = {question["answer"]} if single else set(question["answer"])
    chosen: Counter[str] = Counter()
    for response, count in given:
        picked = [response] if single else response
        if isinstance(picked, list):
            for option_id in {item for item in picked if isinstance(item, str)}:
                chosen[option_id] += count
    return [
        (localized(option["text"]), chosen[option["id"]], option["id"] in key)
        for option in question["options"]
    ]


def _true_false(question: dict, given: list[tuple[Any, int]]) -> list[tuple[str, int, bool]]:
    chosen: Counter[bool] = Counter()
    for response, count in given:
        if isinstance(response, bool):
            chosen[response] += count
    return [
        (_("True"), chosen[True], question["answer"] is True),
        (_("False"), chosen[False], question["answer"] is False),
    ]


def _key(question: dict, response: Any) -> str:
    """Responses that mean the same (case and spacing of a text, 0.5 and 0.50) share it."""
    if question["type"] == "short_text" and isinstance(response, str):
        return grading.normalise_text(
            response, accent_sensitive=bool(question.get("accent_sensitive"))
        )
    if question["type"] == "numeric" and isinstance(response, int | float):
        return responses.format_number(float(response))
    return json.dumps(response, sort_keys=True)


def _frequent(question: dict, given: list[tuple[Any, int]]) -> list[tuple[str, int, bool | None]]:
    merged: Counter[str] = Counter()
    example: dict[str, Any] = {}
    for response, count in given:
        key = _key(question, response)
        merged[key] += count
        example.setdefault(key, response)
    top = sorted(merged.items(), key=lambda item: (-item[1], item[0]))[:TOP_RESPONSES]
    lines: list[tuple[str, int, bool | None]] = [
        (response_text(question, example[key]), count, _is_right(question, example[key]))
        for key, count in top
    ]
    rest = sum(merged.values()) - sum(count for _k, count in top)
    if rest:
        lines.append((_("Other answers"), rest, None))
    return lines


def _is_right(question: dict, response: Any) -> bool | None:
    try:
        return grading.grade(question, response).correct
    except KeyError:  # a question type this version of the quiz engine does not know
        return None


def _by_id(items: list[dict]) -> dict[str, str]:
    return {item["id"]: localized(item["text"]) for item in items}


def response_text(question: dict[str, Any], response: Any) -> str:
    """A learner's response in words: a number with its unit, the pairs of a matching,
    the order given, or the text typed."""
    kind = question["type"]
    if kind == "numeric" and isinstance(response, int | float):
        unit = localized(question.get("unit"))
        number = responses.format_number(float(response))
        return f"{number} {unit}".strip()
    if kind == "matching" and isinstance(response, dict):
        sources, targets = _by_id(question["sources"]), _by_id(question["targets"])
        return "; ".join(
            f"{text} → {targets.get(response[source], str(response[source]))}"
            for source, text in sources.items()
            if source in response
        )
    if kind == "ordering" and isinstance(response, list):
        items = _by_id(question["items"])
        return " → ".join(items.get(item, str(item)) for item in response)
    return str(response)
