"""``quiz.yaml``: the question bank, checked and normalised (pure functions).

A normalised question is a plain dict that the quiz engine reads from
``ModuleVersion.questions``. Every question has ``id``, ``type``, ``topic``,
``prompt`` (language map), ``feedback`` (language map, ``en`` at least) and
``source`` (``{"ref": <source id>, "where": <text or None>}``), plus per type:

- ``single_choice``: ``options`` [{id, text}], ``answer`` (option id)
- ``multiple_response``: ``options``, ``answer`` [option ids], ``partial_credit``
- ``true_false``: ``answer`` (bool)
- ``numeric``: ``answer`` (number), ``tolerance`` (number >= 0), ``unit`` (map or None)
- ``matching``: ``sources`` and ``targets`` [{id, text}], ``answer`` {source: target},
  ``partial_credit``
- ``ordering``: ``items`` [{id, text}] in the correct order
- ``short_text``: ``accepted`` [text], ``accent_sensitive``
"""

from __future__ import annotations

from typing import Any

from lms.catalog.schema import FileChecker
from lms.catalog.sourcetext import Path

#: Question type -> xAPI interactionType.
INTERACTION_TYPES = {
    "single_choice": "choice",
    "multiple_response": "choice",
    "true_false": "true-false",
    "numeric": "numeric",
    "matching": "matching",
    "ordering": "sequencing",
    "short_text": "fill-in",
}
COMMON_REQUIRED = ("id", "type", "topic", "prompt", "feedback", "source")
TYPE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # type: (required fields, optional fields)
    "single_choice": (("options", "answer"), ()),
    "multiple_response": (("options", "answer"), ("partial_credit",)),
    "true_false": (("answer",), ()),
    "numeric": (("answer",), ("tolerance", "unit")),
    "matching": (("sources", "targets", "answer"), ("partial_credit",)),
    "ordering": (("items",), ()),
    "short_text": (("accepted",), ("accent_sensitive",)),
}


def check_question_bank(value: Any, checker: FileChecker, source_ids: set[str]) -> list[dict]:
    """Check the whole ``quiz.yaml``; return the normalised questions (valid ones only)."""
    data = checker.mapping(value, (), required=("questions",))
    if data is None:
        return []
    items = checker.sequence(data.get("questions"), ("questions",), min_items=1)
    checker.unique_ids(items, ("questions",), "question")
    questions = []
    for index, item in enumerate(items):
        question = check_question(item, ("questions", index), checker, source_ids)
        if question is not None:
            questions.append(question)
    return questions


def check_question(item: Any, path: Path, checker: FileChecker, source_ids: set[str]):
    """Check one question; return it normalised, or None when it has a problem."""
    kind = item.get("type") if isinstance(item, dict) else None
    fields = TYPE_FIELDS.get(kind) if isinstance(kind, str) else None
    required, optional = fields or ((), ())
    data = checker.mapping(item, path, required=COMMON_REQUIRED + required, optional=optional)
    if data is None:
        return None
    before = len(checker.problems)
    if "type" in data:
        checker.choice(kind, (*path, "type"), tuple(TYPE_FIELDS))
    question = {
        "id": data.get("id"),
        "type": kind,
        "topic": checker.text(data.get("topic"), (*path, "topic"), max_length=64),
        "prompt": checker.language_map(data.get("prompt"), (*path, "prompt")),
        "feedback": checker.language_map(
            data.get("feedback"), (*path, "feedback"), required=("en",)
        ),
        "source": _source(data.get("source"), (*path, "source"), checker, source_ids),
    }
    if fields is not None and all(key in data for key in required):
        question.update(_CHECKS[kind](data, path, checker))
    return question if len(checker.problems) == before else None


def _source(value: Any, path: Path, checker: FileChecker, source_ids: set[str]):
    data = checker.mapping(value, path, required=("ref",), optional=("where",))
    if data is None:
        return None
    ref = data.get("ref")
    if not _is_one_of(ref, source_ids):
        checker.add((*path, "ref"), f"{ref!r} is not the id of a source in module.yaml")
    where = data.get("where")
    if where is not None:
        where = checker.text(str(where), (*path, "where"), max_length=200)
    return {"ref": ref, "where": where}


def _entries(value: Any, path: Path, checker: FileChecker, what: str, min_items: int = 2):
    """A list of ``{id, text}`` with unique ids; returns (entries, ids)."""
    items = checker.sequence(value, path, min_items=min_items)
    ids = checker.unique_ids(items, path, what)
    entries = []
    for index, item in enumerate(items):
        data = checker.mapping(item, (*path, index), required=("id", "text"))
        if data is not None:
            text = checker.language_map(data.get("text"), (*path, index, "text"))
            entries.append({"id": data.get("id"), "text": text})
    return entries, set(ids)


def _choice(data: dict, path: Path, checker: FileChecker) -> dict:
    options, ids = _entries(data["options"], (*path, "options"), checker, "option")
    if not _is_one_of(data["answer"], ids):
        checker.add((*path, "answer"), f"{data['answer']!r} is not one of the option ids")
    return {"options": options, "answer": data["answer"]}


def _multiple(data: dict, path: Path, checker: FileChecker) -> dict:
    options, ids = _entries(data["options"], (*path, "options"), checker, "option")
    answer = checker.sequence(data["answer"], (*path, "answer"), min_items=1)
    for index, option_id in enumerate(answer):
        if not _is_one_of(option_id, ids):
            checker.add((*path, "answer", index), f"{option_id!r} is not one of the option ids")
    if len(set(map(str, answer))) != len(answer):
        checker.add((*path, "answer"), "an option is listed twice")
    return {
        "options": options,
        "answer": answer,
        "partial_credit": _flag(data, "partial_credit", path, checker),
    }


def _true_false(data: dict, path: Path, checker: FileChecker) -> dict:
    return {"answer": checker.boolean(data["answer"], (*path, "answer"))}


def _numeric(data: dict, path: Path, checker: FileChecker) -> dict:
    tolerance = data.get("tolerance", 0)
    if checker.number(tolerance, (*path, "tolerance")) is not None and tolerance < 0:
        checker.add((*path, "tolerance"), "must not be negative")
    unit = data.get("unit")
    if isinstance(unit, str):
        unit = {"en": checker.text(unit, (*path, "unit"), max_length=20)}
    elif unit is not None:
        unit = checker.language_map(unit, (*path, "unit"), required=("en",))
    return {
        "answer": checker.number(data["answer"], (*path, "answer")),
        "tolerance": tolerance,
        "unit": unit,
    }


def _matching(data: dict, path: Path, checker: FileChecker) -> dict:
    sources, source_ids = _entries(data["sources"], (*path, "sources"), checker, "source")
    targets, target_ids = _entries(data["targets"], (*path, "targets"), checker, "target")
    answer = checker.mapping(data["answer"], (*path, "answer"), required=sorted(source_ids))
    for source_id, target_id in (answer or {}).items():
        if not _is_one_of(target_id, target_ids):
            message = f"{target_id!r} is not one of the target ids"
            checker.add((*path, "answer", source_id), message)
    return {
        "sources": sources,
        "targets": targets,
        "answer": answer,
        "partial_credit": _flag(data, "partial_credit", path, checker),
    }


def _ordering(data: dict, path: Path, checker: FileChecker) -> dict:
    items, _ids = _entries(data["items"], (*path, "items"), checker, "item")
    return {"items": items}


def _short_text(data: dict, path: Path, checker: FileChecker) -> dict:
    accepted = checker.sequence(data["accepted"], (*path, "accepted"), min_items=1)
    texts = [checker.text(str(item), (*path, "accepted", i)) for i, item in enumerate(accepted)]
    return {
        "accepted": texts,
        "accent_sensitive": _flag(data, "accent_sensitive", path, checker),
    }


def _is_one_of(value: Any, ids: set[str]) -> bool:
    """Whether ``value`` is one of the ``ids``; a list or mapping (unhashable) never is."""
    return isinstance(value, str) and value in ids


def _flag(data: dict, key: str, path: Path, checker: FileChecker) -> bool:
    value = data.get(key, False)
    return bool(checker.boolean(value, (*path, key)))


_CHECKS = {
    "single_choice": _choice,
    "multiple_response": _multiple,
    "true_false": _true_false,
    "numeric": _numeric,
    "matching": _matching,
    "ordering": _ordering,
    "short_text": _short_text,
}
