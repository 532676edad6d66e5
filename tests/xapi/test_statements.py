"""Statement building: pure functions, tested without an app."""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms import xapi
from lms.xapi import validation, vocabulary
from lms.xapi.statements import BuildSettings, build_statement, scaled_score
from tests.xapi.events import ASSESSMENT, LESSON, MODULE, SESSION, WHEN, every_event, person

SETTINGS = BuildSettings(base_url="https://lms.example.org/", platform="LMS", language="fr")
LEARNER = person("0b5c1f0e-0000-4000-8000-000000000001")
TRAINER = person("0b5c1f0e-0000-4000-8000-000000000002")


def build(event, **kwargs):
    return build_statement(event, SETTINGS, **kwargs)


def events():
    return every_event(LEARNER, TRAINER, registration="9d3d5c8e-1e4f-4b51-9d8e-6f1f54c1e7a2")


@pytest.mark.parametrize("event", events(), ids=lambda e: f"{e.kind}-{e.activity.path[-12:]}")
def test_every_event_kind_makes_a_valid_statement(event):
    statement = build(event)
    assert validation.problems(statement) == []
    assert statement["verb"]["id"] == vocabulary.VERBS[vocabulary.EVENTS[event.kind].verb].id
    assert uuid.UUID(statement["id"]).version == 4
    assert "version" not in statement
    assert json.loads(json.dumps(statement)) == statement


def test_every_event_kind_is_covered():
    assert {e.kind for e in events()} == set(vocabulary.EVENT_KINDS)


def test_actor_is_an_account_under_the_base_url_by_default():
    statement = build(events()[0])
    assert statement["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": "https://lms.example.org", "name": LEARNER.public_id},
    }


def test_actor_is_an_mbox_when_the_organisation_chose_it():
    learner = person(mode="mbox", email="ana@example.org")
    event = xapi.LearningEvent(
        kind="module.launched", learner=learner, activity=MODULE, occurred_at=WHEN
    )
    assert build(event)["actor"] == {"objectType": "Agent", "mbox": "mailto:ana@example.org"}


def test_activity_ids_types_and_bilingual_names():
    statement = build(events()[2])
    assert statement["object"]["id"] == (
        "https://lms.example.org/xapi/activities/modules/gmp-fundamentals/lessons/01-why-gmp"
    )
    definition = statement["object"]["definition"]
    assert definition["type"] == "http://adlnet.gov/expapi/activities/lesson"
    assert definition["name"] == {"en": "Why GMP", "fr": "Pourquoi les BPF"}
    parent = statement["context"]["contextActivities"]["parent"][0]
    assert parent["id"].endswith("/xapi/activities/modules/gmp-fundamentals")


def test_context_has_registration_platform_language_and_utc_timestamp():
    statement = build(events()[0])
    assert statement["context"]["registration"] == "9d3d5c8e-1e4f-4b51-9d8e-6f1f54c1e7a2"
    assert statement["context"]["platform"] == "LMS"
    assert statement["context"]["language"] == "fr"
    assert statement["timestamp"] == "2026-03-14T09:26:53.589000+00:00"


def test_trainer_actions_name_the_instructor():
    attended = next(e for e in events() if e.kind == "practical.attended")
    instructor = build(attended)["context"]["instructor"]
    assert instructor["account"]["name"] == TRAINER.public_id


def test_question_is_a_cmi_interaction_with_its_parts():
    answered = [build(e) for e in events() if e.kind == "question.answered"]
    by_type = {s["object"]["definition"]["interactionType"]: s for s in answered}
    choice = by_type["choice"]["object"]["definition"]
    assert choice["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
    assert choice["correctResponsesPattern"] == ["b[,]c"]
    assert [c["id"] for c in choice["choices"]] == ["a", "b", "c"]
    matching = by_type["matching"]["object"]["definition"]
    assert [c["id"] for c in matching["source"]] == ["4ma", "20ma"]
    assert [c["id"] for c in matching["target"]] == ["zero", "span"]
    assert by_type["choice"]["result"]["response"] == "b[,]c"


def test_attempt_result_has_scaled_score_and_duration():
    passed = build(events()[3])
    assert passed["result"]["score"] == {"scaled": 0.8, "raw": 8.0, "min": 0.0, "max": 10.0}
    assert passed["result"]["duration"] == "PT12M34.3S"
    assert passed["result"]["success"] is True


def test_plain_extension_names_become_iris_under_the_base_url():
    waived = next(e for e in events() if e.kind == "prerequisite.waived")
    statement = build(waived)
    assert statement["result"]["extensions"] == {
        "https://lms.example.org/xapi/extensions/reason": "Qualified at the previous employer"
    }


def test_statement_id_is_the_one_given():
    fixed = str(uuid.uuid4())
    assert build(events()[0], statement_id=fixed)["id"] == fixed


def _event(**changes):
    fields = {
        "kind": "lesson.experienced",
        "learner": LEARNER,
        "activity": LESSON,
        "occurred_at": WHEN,
    }
    return xapi.LearningEvent(**{**fields, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "lesson.read"}, "unknown event kind"),
        ({"activity": MODULE}, "is about a lesson"),
        ({"kind": "practical.attended", "activity": SESSION}, "needs the instructor"),
        ({"occurred_at": datetime(2026, 1, 1)}, "aware"),
        ({"registration": "enrolment-12"}, "not a UUID"),
        (
            {
                "kind": "attempt.passed",
                "activity": ASSESSMENT,
                "result": xapi.Result(score_raw=11, score_min=0, score_max=10),
            },
            "outside",
        ),
        (
            {
                "kind": "attempt.passed",
                "activity": ASSESSMENT,
                "result": xapi.Result(score_raw=1, score_max=10),
            },
            "both score min and max",
        ),
        (
            {"activity": xapi.Activity(kind="lesson", path="a b", name={"en": "x"})},
            "without spaces",
        ),
        ({"activity": xapi.Activity(kind="lesson", path="l", name={})}, "language entry"),
        (
            {
                "kind": "question.answered",
                "activity": xapi.Activity(kind="question", path="q", name={"en": "Q"}),
            },
            "interaction",
        ),
        (
            {
                "kind": "question.answered",
                "activity": xapi.Activity(
                    kind="question",
                    path="q",
                    name={"en": "Q"},
                    interaction=xapi.Interaction(type="true-false", choices=[("a", {})]),
                ),
            },
            "no choices",
        ),
        ({"result": xapi.Result(duration_seconds=-1)}, "negative"),
    ],
)
def test_events_that_cannot_make_a_valid_statement_are_refused(changes, message):
    with pytest.raises(xapi.StatementError, match=message):
        build(_event(**changes))


@given(
    st.floats(-1000, 1000, allow_nan=False),
    st.floats(0.001, 1000, allow_nan=False),
    st.floats(0, 1, allow_nan=False),
)
def test_scaled_score_is_within_bounds_and_consistent(low, width, fraction):
    high = low + width
    raw = min(high, low + fraction * width)
    scaled = scaled_score(raw, low, high)
    assert 0 <= scaled <= 1
    assert abs(scaled - (raw - low) / (high - low)) < 1e-5


@given(st.floats(0, 400 * 86400, allow_nan=False))
def test_durations_are_iso_8601(seconds):
    event = _event(result=xapi.Result(duration_seconds=seconds))
    duration = build(event)["result"]["duration"]
    assert re.fullmatch(r"P(\d+D)?T(\d+H)?(\d+M)?\d+(\.\d+)?S", duration), duration
    assert validation.problems(build(event)) == []


@given(st.datetimes(timezones=st.timezones()))
def test_timestamps_are_utc(moment):
    stamp = build(_event(occurred_at=moment))["timestamp"]
    assert stamp.endswith("+00:00")
    parsed = datetime.fromisoformat(stamp)
    assert abs(parsed - moment) < timedelta(microseconds=1)
