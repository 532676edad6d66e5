"""One question of every type, as the catalog normalises them (shared by the tests)."""

from __future__ import annotations


def text(en: str) -> dict[str, str]:
    return {"en": en, "fr": en + " (fr)"}


def entries(*ids: str) -> list[dict]:
    return [{"id": i, "text": text(f"Text of {i}")} for i in ids]


def base(qid: str, kind: str, topic: str = "basics") -> dict:
    return {
        "id": qid,
        "type": kind,
        "topic": topic,
        "prompt": text(f"Prompt of {qid}"),
        "feedback": text(f"Feedback of {qid}"),
        "source": {"ref": "annex1", "where": None},
    }


SINGLE = {**base("single", "single_choice"), "options": entries("a", "b", "c"), "answer": "b"}
MULTIPLE = {
    **base("multiple", "multiple_response"),
    "options": entries("a", "b", "c", "d"),
    "answer": ["a", "c"],
    "partial_credit": True,
}
TRUE_FALSE = {**base("truth", "true_false"), "answer": False}
NUMERIC = {
    **base("speed", "numeric"),
    "answer": 0.45,
    "tolerance": 0.09,
    "unit": {"en": "m/s"},
}
MATCHING = {
    **base("pairs", "matching"),
    "sources": entries("s1", "s2", "s3"),
    "targets": entries("t1", "t2", "t3", "t4"),
    "answer": {"s1": "t2", "s2": "t1", "s3": "t4"},
    "partial_credit": True,
}
ORDERING = {**base("order", "ordering"), "items": entries("first", "second", "third")}
SHORT_TEXT = {
    **base("word", "short_text"),
    "accepted": ["Stérile", "aseptic filling"],
    "accent_sensitive": False,
}
EVERY_TYPE = [SINGLE, MULTIPLE, TRUE_FALSE, NUMERIC, MATCHING, ORDERING, SHORT_TEXT]
