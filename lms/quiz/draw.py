"""The draw of an attempt: which questions, in which order, with options in which order.

Pure and seeded, so an attempt's draw can be recomputed from its seed; the attempt
stores the result anyway (``Attempt.draw``), so a new package version or a change of
this code never changes an attempt already started. The draw holds ids only, no keys.
"""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

#: For each type, the lists of a question whose order is shuffled.
SHUFFLED_LISTS = {
    "single_choice": ("options",),
    "multiple_response": ("options",),
    "matching": ("sources", "targets"),
    "ordering": ("items",),
}


def draw_questions(
    bank: list[dict[str, Any]],
    count: int,
    *,
    seed: int | str,
    balance_topics: bool = False,
    shuffle_options: bool = True,
) -> list[dict[str, Any]]:
    """Draw ``count`` questions (all of the bank if it is smaller) for one attempt.

    Returns ``[{"id": question id, "options"|"sources"|"targets"|"items": [ids]}]`` in
    the order shown. With ``balance_topics`` the draw takes questions from each topic in
    turn, so topics differ in count by one at most (while a topic has questions left).
    Ordering items are always shuffled (shown in their correct order they would give the
    answer away); other lists only with ``shuffle_options``.
    """
    rng = random.Random(f"{seed}")  # noqa: S311 (a reproducible draw; the seed is secret)
    count = min(count, len(bank))
    chosen = _balanced(bank, count, rng) if balance_topics else rng.sample(bank, count)
    rng.shuffle(chosen)
    return [_arrange(question, rng, shuffle_options) for question in chosen]


def _balanced(bank: list[dict], count: int, rng: random.Random) -> list[dict]:
    by_topic: dict[str, list[dict]] = defaultdict(list)
    for question in bank:
        by_topic[question["topic"]].append(question)
    topics = sorted(by_topic)
    rng.shuffle(topics)
    for topic in topics:
        rng.shuffle(by_topic[topic])
    chosen: list[dict] = []
    while len(chosen) < count:
        for topic in topics:
            if by_topic[topic] and len(chosen) < count:
                chosen.append(by_topic[topic].pop())
    return chosen


def _arrange(question: dict, rng: random.Random, shuffle_options: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"id": question["id"]}
    for name in SHUFFLED_LISTS.get(question["type"], ()):
        ids = [item["id"] for item in question[name]]
        if shuffle_options or question["type"] == "ordering":
            original = list(ids)
            rng.shuffle(ids)
            if question["type"] == "ordering" and ids == original and len(ids) > 1:
                ids = ids[1:] + ids[:1]
        entry[name] = ids
    return entry


#: What a page may show of a question: never ``answer``, ``accepted`` or ``feedback``.
SHOWN_FIELDS = ("id", "type", "topic", "prompt", "unit")


def shown_question(question: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """What the page of an open attempt shows of ``question``: its prompt and its lists
    in the order of the draw ``entry``; no answer key, no feedback."""
    shown = {key: question[key] for key in SHOWN_FIELDS if key in question}
    for name in SHUFFLED_LISTS.get(question["type"], ()):
        by_id = {item["id"]: item for item in question[name]}
        order = [item_id for item_id in entry.get(name, ()) if item_id in by_id]
        if len(order) != len(by_id):
            order = list(by_id)
        shown[name] = [{"id": by_id[i]["id"], "text": by_id[i]["text"]} for i in order]
    return shown
