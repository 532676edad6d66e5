"""Reading responses from forms and writing them in the xAPI response format."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from lms.quiz.grading import answer_key, grade
from lms.quiz.responses import correct_responses, interaction, parse, xapi_response
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
    "question,form,response",
    [
        (SINGLE, {"q-single": "b"}, "b"),
        (SINGLE, {"q-single": "zzz"}, None),
        (MULTIPLE, [("q-multiple", "c"), ("q-multiple", "a"), ("q-multiple", "x")], ["a", "c"]),
        (TRUE_FALSE, {"q-truth": "false"}, False),
        (TRUE_FALSE, {"q-truth": "maybe"}, None),
        (NUMERIC, {"q-speed": " 0,45 "}, 0.45),
        (NUMERIC, {"q-speed": "nan"}, None),
        (NUMERIC, {"q-speed": "fast"}, None),
        (MATCHING, {"q-pairs-s1": "t2", "q-pairs-s2": "nope"}, {"s1": "t2"}),
        (
            ORDERING,
            {"q-order-first": "2", "q-order-second": "1", "q-order-third": "3"},
            ["second", "first", "third"],
        ),
        (ORDERING, {}, []),
        (SHORT_TEXT, {"q-word": "  aseptic   filling "}, "aseptic filling"),
        (SHORT_TEXT, {"q-word": "   "}, None),
    ],
)
def test_parse_keeps_only_possible_answers(question, form, response):
    assert parse(question, MultiDict(form)) == response


@pytest.mark.parametrize(
    "question,response,text",
    [
        (SINGLE, "b", "b"),
        (MULTIPLE, ["a", "c"], "a[,]c"),
        (TRUE_FALSE, True, "true"),
        (TRUE_FALSE, False, "false"),
        (NUMERIC, 4.5, "4.5"),
        (NUMERIC, 12.0, "12"),
        (MATCHING, {"s2": "t1", "s1": "t2"}, "s1[.]t2[,]s2[.]t1"),
        (ORDERING, ["second", "first"], "second[,]first"),
        (SHORT_TEXT, "sterile", "sterile"),
        (SINGLE, None, ""),
    ],
)
def test_xapi_response_format(question, response, text):
    assert xapi_response(question, response) == text


@pytest.mark.parametrize(
    "question,pattern",
    [
        (SINGLE, ["b"]),
        (MULTIPLE, ["a[,]c"]),
        (TRUE_FALSE, ["false"]),
        (NUMERIC, ["0.36[:]0.54"]),
        ({**NUMERIC, "tolerance": 0}, ["0.45"]),
        (MATCHING, ["s1[.]t2[,]s2[.]t1[,]s3[.]t4"]),
        (ORDERING, ["first[,]second[,]third"]),
        (SHORT_TEXT, ["Stérile", "aseptic filling"]),
    ],
)
def test_correct_responses_pattern(question, pattern):
    assert correct_responses(question) == pattern


@pytest.mark.parametrize("question", EVERY_TYPE, ids=lambda q: q["type"])
def test_every_type_has_an_interaction_and_its_key_formats(question):
    definition = interaction(question)
    assert definition.type
    assert xapi_response(question, answer_key(question))
    assert grade(question, answer_key(question)).correct
