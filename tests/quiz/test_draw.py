"""The draw: seeded, balanced by topic, options shuffled, no keys in what a page shows."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from lms.quiz.draw import draw_questions, shown_question
from tests.quiz.questions import EVERY_TYPE, SINGLE, base, entries


def bank(per_topic: dict[str, int]) -> list[dict]:
    return [
        {**SINGLE, **base(f"{topic}-{n}", "single_choice", topic)}
        for topic, count in per_topic.items()
        for n in range(count)
    ]


def test_the_same_seed_gives_the_same_draw_and_another_seed_another():
    questions = bank({"a": 10, "b": 10})
    first = draw_questions(questions, 8, seed=42)
    assert first == draw_questions(questions, 8, seed=42)
    assert any(draw_questions(questions, 8, seed=s) != first for s in range(5))


@given(st.integers(), st.integers(1, 12))
def test_balanced_draw_spreads_topics_evenly(seed, count):
    drawn = draw_questions(bank({"a": 6, "b": 6, "c": 6}), count, seed=seed, balance_topics=True)
    topics = Counter(entry["id"].split("-")[0] for entry in drawn)
    assert len(drawn) == count
    assert max(topics.values()) - min(topics.get(t, 0) for t in "abc") <= 1


def test_balanced_draw_takes_the_rest_when_a_topic_runs_out():
    drawn = draw_questions(bank({"a": 1, "b": 9}), 6, seed=1, balance_topics=True)
    assert len({e["id"] for e in drawn}) == 6


def test_a_bank_smaller_than_the_draw_gives_every_question():
    assert len(draw_questions(bank({"a": 3}), 15, seed=1)) == 3


@given(st.integers())
def test_options_are_a_permutation_and_ordering_items_never_show_in_order(seed):
    drawn = draw_questions(EVERY_TYPE, len(EVERY_TYPE), seed=seed)
    by_id = {q["id"]: q for q in EVERY_TYPE}
    for entry in drawn:
        question = by_id[entry["id"]]
        for name in ("options", "sources", "targets", "items"):
            if name in question:
                assert sorted(entry[name]) == sorted(i["id"] for i in question[name])
        if question["type"] == "ordering":
            assert entry["items"] != [i["id"] for i in question["items"]]


def test_without_shuffling_options_keep_their_order():
    drawn = draw_questions([SINGLE], 1, seed=3, shuffle_options=False)
    assert drawn[0]["options"] == ["a", "b", "c"]


def test_shown_question_has_no_key_and_no_feedback():
    for question in EVERY_TYPE:
        [entry] = draw_questions([question], 1, seed=7)
        shown = shown_question(question, entry)
        assert not {"answer", "accepted", "feedback", "accent_sensitive"} & set(shown)


def test_shown_question_falls_back_to_the_bank_order_if_the_draw_does_not_fit():
    question = {**SINGLE, "options": entries("a", "b", "c", "d")}
    shown = shown_question(question, {"id": "single", "options": ["c", "a"]})
    assert [o["id"] for o in shown["options"]] == ["a", "b", "c", "d"]
