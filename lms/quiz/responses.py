"""Responses: read them from a submitted form, write them in xAPI's response format.

Pure functions. Form fields are named ``q-<question id>`` (matching and ordering add
``-<source or item id>``); ``parse`` keeps only values the question offers, so a crafted
form can never store anything but a possible answer.
"""

from __future__ import annotations

import math
from typing import Any, Protocol

from lms.catalog.questions import INTERACTION_TYPES
from lms.xapi.events import Interaction

#: Longest text kept from a numeric or short-text field.
MAX_TEXT = 200


class FormData(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def getlist(self, key: str) -> list[str]: ...


def field_name(question_id: str, part: str | None = None) -> str:
    """The form field of a question (or of one source or item of it)."""
    return f"q-{question_id}" + (f"-{part}" if part else "")


def parse(question: dict[str, Any], form: FormData) -> Any:
    """The response to ``question`` given in ``form`` (None, [] or {} when unanswered)."""
    kind = question["type"]
    name = field_name(question["id"])
    if kind == "single_choice":
        value = form.get(name)
        return value if value in _ids(question["options"]) else None
    if kind == "multiple_response":
        ticked = set(form.getlist(name))
        return [option_id for option_id in _ids(question["options"]) if option_id in ticked]
    if kind == "true_false":
        return {"true": True, "false": False}.get(form.get(name))
    if kind == "numeric":
        return parse_number(form.get(name))
    if kind == "matching":
        return _parse_matching(question, form)
    if kind == "ordering":
        return _parse_ordering(question, form)
    if kind == "short_text":
        text = " ".join(str(form.get(name) or "")[:MAX_TEXT].split())
        return text or None
    raise KeyError(kind)


def parse_number(text: Any) -> float | None:
    """``"0,45"`` or ``" 0.45 "`` as 0.45; None for anything that is not a finite number."""
    text = str(text or "").strip().replace(",", ".").replace(" ", "")[:40]
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _ids(items: list[dict]) -> list[str]:
    return [item["id"] for item in items]


def _parse_matching(question: dict, form: FormData) -> dict[str, str]:
    targets = set(_ids(question["targets"]))
    chosen = {}
    for source_id in _ids(question["sources"]):
        target = form.get(field_name(question["id"], source_id))
        if target in targets:
            chosen[source_id] = target
    return chosen


def _parse_ordering(question: dict, form: FormData) -> list[str]:
    """Items sorted by the position typed beside each; ties keep the order shown."""
    positions = []
    for shown, item_id in enumerate(_ids(question["items"])):
        value = str(form.get(field_name(question["id"], item_id)) or "").strip()
        if value.isdigit():
            positions.append((int(value), shown, item_id))
    if not positions:
        return []
    given = {item_id for _p, _s, item_id in positions}
    rest = [item_id for item_id in _ids(question["items"]) if item_id not in given]
    return [item_id for _p, _s, item_id in sorted(positions)] + rest


def is_answered(response: Any) -> bool:
    return response is not None and response != [] and response != {}


# xAPI --------------------------------------------------------------------------------


def format_number(value: float) -> str:
    """A number as xAPI writes it: ``4.5``, ``12``, never ``12.0``."""
    text = f"{value:.12g}"
    return text


def xapi_response(question: dict[str, Any], response: Any) -> str:
    """``response`` in the xAPI response format of the question's interactionType."""
    if not is_answered(response):
        return ""
    kind = question["type"]
    if kind in ("single_choice", "short_text"):
        return str(response)
    if kind in ("multiple_response", "ordering"):
        return "[,]".join(response)
    if kind == "true_false":
        return "true" if response else "false"
    if kind == "numeric":
        return format_number(response)
    if kind == "matching":
        return "[,]".join(f"{source}[.]{target}" for source, target in sorted(response.items()))
    raise KeyError(kind)


def correct_responses(question: dict[str, Any]) -> list[str]:
    """The question's correctResponsesPattern."""
    kind = question["type"]
    if kind == "single_choice":
        return [question["answer"]]
    if kind == "multiple_response":
        return ["[,]".join(question["answer"])]
    if kind == "true_false":
        return ["true" if question["answer"] else "false"]
    if kind == "numeric":
        answer, tolerance = question["answer"], question.get("tolerance") or 0
        if not tolerance:
            return [format_number(answer)]
        return [f"{format_number(answer - tolerance)}[:]{format_number(answer + tolerance)}"]
    if kind == "matching":
        pairs = sorted(question["answer"].items())
        return ["[,]".join(f"{source}[.]{target}" for source, target in pairs)]
    if kind == "ordering":
        return ["[,]".join(_ids(question["items"]))]
    if kind == "short_text":
        return list(question["accepted"])
    raise KeyError(kind)


def interaction(question: dict[str, Any]) -> Interaction:
    """The ``cmi.interaction`` definition of ``question`` (type, pattern, components)."""
    kind = question["type"]

    def components(name: str):
        return tuple((item["id"], item["text"]) for item in question[name])

    extra: dict[str, Any] = {}
    if kind in ("single_choice", "multiple_response"):
        extra["choices"] = components("options")
    elif kind == "ordering":
        extra["choices"] = components("items")
    elif kind == "matching":
        extra["source"] = components("sources")
        extra["target"] = components("targets")
    return Interaction(
        type=INTERACTION_TYPES[kind], correct_responses=tuple(correct_responses(question)), **extra
    )
