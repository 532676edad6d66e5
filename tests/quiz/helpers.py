"""Filling in answers as a learner would: right ones (from the key) or wrong ones."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from lms.quiz.grading import answer_key
from lms.quiz.responses import field_name, format_number


def answer_fields(question: dict, right: bool = True) -> list[tuple[str, str]]:
    """Form fields answering ``question`` right (its key) or wrong."""
    qid, kind = question["id"], question["type"]
    key = answer_key(question)
    name = field_name(qid)
    if kind == "single_choice":
        other = next(o["id"] for o in question["options"] if o["id"] != key)
        return [(name, key if right else other)]
    if kind == "multiple_response":
        ticked = key if right else [o["id"] for o in question["options"] if o["id"] not in key]
        return [(name, option) for option in ticked]
    if kind == "true_false":
        return [(name, "true" if key == right else "false")]
    if kind == "numeric":
        return [(name, format_number(key if right else key + 1000))]
    if kind == "matching":
        targets = [t["id"] for t in question["targets"]]
        return [
            (field_name(qid, s), t if right else next(x for x in targets if x != t))
            for s, t in key.items()
        ]
    if kind == "ordering":
        order = key if right else list(reversed(key))
        return [(field_name(qid, item), str(order.index(item) + 1)) for item in key]
    return [(name, key if right else "wrong answer")]


def attempt_form(questions: list[dict], right=True) -> MultiDict:
    """Answers to ``questions``: all right, all wrong, or right for the ids in ``right``."""
    fields = [("shown", q["id"]) for q in questions]
    for question in questions:
        is_right = right if isinstance(right, bool) else question["id"] in right
        fields += answer_fields(question, is_right)
    return MultiDict(fields)
