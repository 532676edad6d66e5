"""Grading: table tests per type and hypothesis properties over every type."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.quiz.grading import answer_key, grade, normalise_text
from tests.quiz.questions import (
    EVERY_TYPE,
    MATCHING,
    MULTIPLE,
    NUMERIC,
    ORDERING,
    SHORT_TEXT,
    SINGLE,
    TRUE_FALSE,
)


@pytest.mark.parametrize(
    "question,response,score",
    [
        (SINGLE, "b", 1.0),
        (SINGLE, "a", 0.0),
        (SINGLE, None, 0.0),
        (MULTIPLE, ["a", "c"], 1.0),
        (MULTIPLE, ["c", "a"], 1.0),
        (MULTIPLE, ["a"], 0.75),
        (MULTIPLE, ["a", "b", "c", "d"], 0.5),
        (MULTIPLE, [], 0.0),
        (MULTIPLE, ["b"], 0.25),
        (MULTIPLE, ["b", "d"], 0.0),
        ({**MULTIPLE, "partial_credit": False}, ["a"], 0.0),
        ({**MULTIPLE, "partial_credit": False}, ["a", "c"], 1.0),
        (TRUE_FALSE, False, 1.0),
        (TRUE_FALSE, True, 0.0),
        (TRUE_FALSE, None, 0.0),
        (NUMERIC, 0.45, 1.0),
        (NUMERIC, 0.54, 1.0),
        (NUMERIC, 0.36, 1.0),
        (NUMERIC, 0.55, 0.0),
        (NUMERIC, None, 0.0),
        ({**NUMERIC, "tolerance": 0, "answer": 0.3}, 0.1 + 0.2, 1.0),
        (MATCHING, {"s1": "t2", "s2": "t1", "s3": "t4"}, 1.0),
        (MATCHING, {"s1": "t2", "s2": "t1", "s3": "t3"}, pytest.approx(2 / 3)),
        (MATCHING, {}, 0.0),
        ({**MATCHING, "partial_credit": False}, {"s1": "t2", "s2": "t1"}, 0.0),
        (ORDERING, ["first", "second", "third"], 1.0),
        (ORDERING, ["second", "first", "third"], 0.0),
        (ORDERING, [], 0.0),
        (SHORT_TEXT, "sterile", 1.0),
        (SHORT_TEXT, "  STÉRILE ", 1.0),
        (SHORT_TEXT, "Aseptic   Filling", 1.0),
        (SHORT_TEXT, "aseptic", 0.0),
        ({**SHORT_TEXT, "accent_sensitive": True}, "sterile", 0.0),
        ({**SHORT_TEXT, "accent_sensitive": True}, "STÉRILE", 1.0),
        (SHORT_TEXT, None, 0.0),
    ],
)
def test_grade_table(question, response, score):
    result = grade(question, response)
    assert result.score == score
    assert result.max == 1.0
    assert result.correct == (result.score == 1.0)


def test_text_normalisation_folds_case_spaces_and_accents():
    assert normalise_text("  Zone   À  Atmosphère ") == "zone a atmosphere"
    assert normalise_text("Ångström", accent_sensitive=True) == "ångström"


# Properties ---------------------------------------------------------------------------

ids = st.lists(st.sampled_from("abcdefghij"), min_size=2, max_size=6, unique=True)


def _entries(values):
    return [{"id": v, "text": {"en": v}} for v in values]


@st.composite
def questions(draw):
    kind = draw(st.sampled_from([q["type"] for q in EVERY_TYPE]))
    base = {"id": "q", "type": kind, "topic": "t", "prompt": {"en": "?"}, "feedback": {}}
    partial = draw(st.booleans())
    if kind == "single_choice":
        options = draw(ids)
        return {**base, "options": _entries(options), "answer": draw(st.sampled_from(options))}
    if kind == "multiple_response":
        options = draw(ids)
        answer = draw(st.lists(st.sampled_from(options), min_size=1, unique=True))
        return {**base, "options": _entries(options), "answer": answer, "partial_credit": partial}
    if kind == "true_false":
        return {**base, "answer": draw(st.booleans())}
    if kind == "numeric":
        answer = draw(st.floats(-1e6, 1e6, allow_nan=False))
        tolerance = draw(st.floats(0, 100, allow_nan=False))
        return {**base, "answer": answer, "tolerance": tolerance, "unit": None}
    if kind == "matching":
        sources = draw(ids)
        targets = draw(st.lists(st.sampled_from("uvwxyz"), min_size=1, max_size=6, unique=True))
        answer = {s: draw(st.sampled_from(targets)) for s in sources}
        return {
            **base,
            "sources": _entries(sources),
            "targets": _entries(targets),
            "answer": answer,
            "partial_credit": partial,
        }
    if kind == "ordering":
        return {**base, "items": _entries(draw(ids))}
    accepted = draw(st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=3))
    accepted = [a for a in accepted if a.strip()] or ["x"]
    return {**base, "accepted": accepted, "accent_sensitive": partial}


anything = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=10),
    st.lists(st.sampled_from("abcdefghijuvwxyz"), max_size=8),
    st.dictionaries(st.sampled_from("abcdefghij"), st.sampled_from("uvwxyz"), max_size=6),
)


@settings(max_examples=400)
@given(questions(), anything)
def test_a_score_is_always_within_zero_and_max(question, response):
    result = grade(question, response)
    assert 0.0 <= result.score <= result.max


@settings(max_examples=400)
@given(questions())
def test_the_answer_key_always_scores_full_marks(question):
    result = grade(question, answer_key(question))
    assert result.score == result.max
    assert result.correct


@settings(max_examples=400)
@given(questions(), anything, st.randoms(use_true_random=False))
def test_a_permutation_of_the_options_never_changes_the_score(question, response, rnd):
    permuted = dict(question)
    for name in ("options", "sources", "targets"):
        if name in question:
            shuffled = list(question[name])
            rnd.shuffle(shuffled)
            permuted[name] = shuffled
    assert grade(permuted, response) == grade(question, response)


@given(questions(), st.randoms(use_true_random=False))
def test_a_permutation_of_a_multiple_response_never_changes_the_score(question, rnd):
    if question["type"] != "multiple_response":
        return
    ticked = [o["id"] for o in question["options"] if random.Random(1).random() < 0.5]
    shuffled = list(ticked)
    rnd.shuffle(shuffled)
    assert grade(question, shuffled) == grade(question, ticked)
