"""Pure cmi5 statement building and the cmi5 rules checked on statements."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from lms.cmi5.conformance import problems, sequence_problems
from lms.cmi5.launch import LaunchError, parse_launch_data, preferred_language
from lms.cmi5.statements import (
    CMI5_CATEGORY,
    MASTERY_SCORE,
    MOVEON_CATEGORY,
    SESSION_ID,
    Launch,
    Outcome,
    build,
    iso_duration,
    judge,
)
from lms.xapi import validation

AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
ACTOR = {"objectType": "Agent", "account": {"homePage": "https://lms.example.org", "name": "7"}}
TEMPLATE = {
    "contextActivities": {
        "grouping": [{"id": "https://pub.example.org/au/1", "objectType": "Activity"}],
        "category": [{"id": "https://lms.example.org/categories/gmp"}],
    },
    "extensions": {SESSION_ID: "s-1", "https://lms.example.org/ext/cohort": "A"},
    "language": "fr-FR",
}
LAUNCH = Launch(
    actor=ACTOR,
    activity_id="https://lms.example.org/au/1",
    registration="760e3480-ba55-4991-94b0-01820dbd23a2",
    context_template=TEMPLATE,
    mastery_score=0.8,
    name={"en": "GMP", "fr": "BPF"},
)


def every_statement() -> list[dict]:
    return [
        build("initialized", LAUNCH, AT),
        build("failed", LAUNCH, AT, duration=61, outcome=Outcome(0.5, False, 5, 10)),
        build("completed", LAUNCH, AT, duration=3600.5),
        build("terminated", LAUNCH, AT, duration=3725.25),
    ]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "PT0S"), (0.25, "PT0.25S"), (61, "PT1M1S"), (3600, "PT1H"), (3725.257, "PT1H2M5.26S")],
)
def test_iso_durations(seconds, text):
    assert iso_duration(seconds) == text


def test_a_negative_duration_is_refused():
    with pytest.raises(ValueError):
        iso_duration(-1)


def test_every_statement_is_valid_xapi_and_valid_cmi5():
    for statement in every_statement():
        assert validation.problems(statement) == []
        assert problems(statement, LAUNCH) == []
    assert sequence_problems(every_statement()) == []


def test_the_context_template_is_kept_and_cmi5_adds_to_it():
    failed = every_statement()[1]
    context = failed["context"]
    assert context["language"] == "fr-FR"
    assert context["extensions"]["https://lms.example.org/ext/cohort"] == "A"
    assert context["extensions"][SESSION_ID] == "s-1"
    assert context["extensions"][MASTERY_SCORE] == 0.8
    assert [a["id"] for a in context["contextActivities"]["category"]] == [
        "https://lms.example.org/categories/gmp",
        CMI5_CATEGORY,
        MOVEON_CATEGORY,
    ]
    assert context["contextActivities"]["grouping"] == TEMPLATE["contextActivities"]["grouping"]
    assert context["registration"] == LAUNCH.registration
    assert TEMPLATE["contextActivities"]["category"] == [
        {"id": "https://lms.example.org/categories/gmp"}
    ]  # the template itself is untouched


def test_results_follow_the_cmi5_rules_per_verb():
    initialized, failed, completed, terminated = every_statement()
    assert "result" not in initialized
    assert failed["result"] == {
        "score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10},
        "success": False,
        "duration": "PT1M1S",
    }
    assert completed["result"] == {"completion": True, "duration": "PT1H0.5S"}
    assert terminated["result"] == {"duration": "PT1H2M5.25S"}
    assert MOVEON_CATEGORY not in str(initialized) + str(terminated)
    assert MASTERY_SCORE not in str(completed)


def test_a_fractional_raw_score_is_left_out_and_scaled_kept():
    statement = build("passed", LAUNCH, AT, duration=5, outcome=Outcome(0.85, True, 8.5, 10))
    assert statement["result"]["score"] == {"scaled": 0.85}


@pytest.mark.parametrize(
    ("verb", "kwargs"),
    [
        ("launched", {}),
        ("passed", {"duration": 1}),
        ("passed", {"duration": 1, "outcome": Outcome(0.9, False)}),
        ("failed", {"duration": 1, "outcome": Outcome(0.9, True)}),
        ("completed", {}),
        ("terminated", {}),
        ("completed", {"duration": 1, "outcome": Outcome(1, True)}),
    ],
)
def test_statements_cmi5_forbids_are_not_built(verb, kwargs):
    with pytest.raises(ValueError):
        build(verb, LAUNCH, AT, **kwargs)


@pytest.mark.parametrize(
    ("scaled", "mastery", "by_module", "expected"),
    [
        (0.8, 0.8, False, True),
        (0.79996, 0.8, True, True),
        (0.7999, 0.8, True, False),
        (0.9, None, False, False),
        (0.5, None, True, True),
    ],
)
def test_judging_against_the_mastery_score(scaled, mastery, by_module, expected):
    assert judge(scaled, mastery, by_module) is expected


def broken(change) -> list[str]:
    statement = build("passed", LAUNCH, AT, duration=5, outcome=Outcome(0.9, True, 9, 10))
    change(statement)
    return problems(statement, LAUNCH)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda s: s["actor"].update(name="Sam"), "the actor must be the launch actor"),
        (lambda s: s["object"].update(id="https://x.example.org/1"), "the object id"),
        (lambda s: s["context"].update(registration="x"), "context.registration"),
        (lambda s: s["context"]["extensions"].pop(SESSION_ID), "the session id"),
        (lambda s: s["context"]["contextActivities"].pop("grouping"), "grouping"),
        (lambda s: s["context"]["contextActivities"]["category"].pop(1), "the cmi5 category"),
        (lambda s: s["context"]["contextActivities"]["category"].pop(), "moveon category"),
        (lambda s: s["result"]["score"].update(scaled=0.7), "below the masteryScore"),
        (lambda s: s["result"].pop("duration"), "must carry result.duration"),
        (lambda s: s["result"].update(completion=True), "must not carry result.completion"),
        (lambda s: s["context"]["extensions"].pop(MASTERY_SCORE), "masteryScore extension"),
        (lambda s: s["result"]["score"].update(raw=8.5), "must be an integer"),
    ],
)
def test_the_conformance_check_catches_each_broken_rule(change, problem):
    found = broken(change)
    assert any(problem in item for item in found), found


def test_the_sequence_check_catches_order_and_repetition():
    initialized, failed, completed, terminated = every_statement()
    later = copy.deepcopy(terminated)
    later["timestamp"] = (AT - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    assert "initialized is not first" in " ".join(sequence_problems([later, initialized]))
    assert "terminated is not last" in " ".join(
        sequence_problems([initialized, terminated, failed])
    )
    passed = build("passed", LAUNCH, AT, duration=1, outcome=Outcome(0.9, True, 9, 10))
    assert "both passed and failed" in " ".join(sequence_problems([initialized, failed, passed]))
    assert "completed or passed twice" in " ".join(
        sequence_problems([initialized, completed, copy.deepcopy(completed)])
    )


def launch_data(**changes) -> dict:
    data = {"contextTemplate": TEMPLATE, "launchMode": "Normal", "moveOn": "Passed"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_launch_data_is_read_with_its_defaults():
    data = parse_launch_data(launch_data(masteryScore=0.75, returnURL="https://lms.example.org/"))
    assert (data.session_id, data.launch_mode, data.move_on) == ("s-1", "Normal", "Passed")
    assert data.mastery_score == 0.75
    assert data.return_url == "https://lms.example.org/"
    assert parse_launch_data(launch_data(moveOn=None)).move_on == "NotApplicable"


@pytest.mark.parametrize(
    "changes",
    [
        {"contextTemplate": None},
        {"launchMode": "Preview"},
        {"moveOn": "Sometimes"},
        {"masteryScore": 1.5},
        {"masteryScore": "0.8"},
        {"returnURL": "javascript:alert(1)"},
        {"returnURL": "https://lms.example.org;script-src/"},
    ],
)
def test_launch_data_cmi5_does_not_define_is_refused(changes):
    with pytest.raises(LaunchError) as refused:
        parse_launch_data(launch_data(**changes))
    assert refused.value.status == 502


@pytest.mark.parametrize(
    ("preference", "expected"),
    [
        ("fr-BE,en-US", "fr"),
        ("de-DE, en-GB", "en"),
        ("zh-CN", None),
        (None, None),
    ],
)
def test_the_first_supported_language_preference_wins(preference, expected):
    preferences = {"languagePreference": preference} if preference else {}
    assert preferred_language(preferences, ("en", "fr")) == expected
