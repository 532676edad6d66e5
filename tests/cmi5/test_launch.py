"""A cmi5 LMS (simulated on 127.0.0.1) launches a module: the statements it receives."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.cmi5.models import Cmi5Session
from lms.cmi5.statements import CMI5_CATEGORY, MASTERY_SCORE, MOVEON_CATEGORY, SESSION_ID
from lms.quiz.models import Attempt
from tests.cmi5.checks import DURATION, assert_conformant, categories


def test_launch_sends_initialized_with_the_launch_actor_object_and_context(db, lms, launched):
    launch = lms.launch("alpha")
    learner = launched(launch)
    assert lms.verbs(launch) == ["initialized"]
    [statement] = lms.received(launch)
    assert statement["actor"] == launch.actor
    assert statement["object"]["id"] == launch.activity_id
    context = statement["context"]
    assert context["registration"] == launch.registration
    assert context["extensions"][SESSION_ID] == launch.session_id
    assert {"id": launch.publisher_id, "objectType": "Activity"} in context["contextActivities"][
        "grouping"
    ]
    assert categories(statement) == {CMI5_CATEGORY}
    assert "result" not in statement
    assert launch.fetches == 1
    page = learner.session_page()
    assert page.status_code == 200
    assert "Exit" in page.get_data(as_text=True)
    assert_conformant(lms, launch)


def test_pass_sends_completed_and_passed_then_exit_terminated_and_return(db, lms, launched):
    launch = lms.launch("alpha", mastery_score=0.8)
    learner = launched(launch)
    learner.read_all_lessons("alpha")
    assert lms.verbs(launch) == ["initialized"]
    result = learner.take_quiz("alpha", right=True)
    assert result.status_code == 200
    assert lms.verbs(launch) == ["initialized", "passed", "completed"]
    passed = lms.received(launch)[1]
    assert passed["result"]["success"] is True
    assert passed["result"]["score"]["scaled"] == 1.0
    assert DURATION.match(passed["result"]["duration"])
    assert categories(passed) == {CMI5_CATEGORY, MOVEON_CATEGORY}
    assert passed["context"]["extensions"][MASTERY_SCORE] == 0.8
    completed = lms.received(launch)[2]
    assert completed["result"]["completion"] is True
    assert "score" not in completed["result"] and "success" not in completed["result"]
    assert categories(completed) == {CMI5_CATEGORY, MOVEON_CATEGORY}

    left = learner.exit()
    assert left.status_code == 303
    assert left.headers["Location"] == "https://lms.example.org/courses/7"
    assert lms.verbs(launch) == ["initialized", "passed", "completed", "terminated"]
    terminated = lms.received(launch)[-1]
    assert DURATION.match(terminated["result"]["duration"])
    assert categories(terminated) == {CMI5_CATEGORY}
    for statement in lms.received(launch):
        assert statement["actor"] == launch.actor
        assert statement["object"]["id"] == launch.activity_id
        assert statement["context"]["registration"] == launch.registration
    assert_conformant(lms, launch)


def test_a_fail_then_a_pass_in_another_session_of_the_registration(
    db, lms, launched, make_client, cool_down_over
):
    first = lms.launch("alpha")
    learner = launched(first)
    learner.read_all_lessons("alpha")
    page = learner.take_quiz("alpha", right=False).get_data(as_text=True)
    assert lms.verbs(first) == ["initialized", "failed", "completed"]
    failed = lms.received(first)[1]
    assert failed["result"]["success"] is False
    assert failed["result"]["score"]["scaled"] < 0.8
    assert DURATION.match(failed["result"]["duration"])
    assert categories(failed) == {CMI5_CATEGORY, MOVEON_CATEGORY}
    assert page  # the quiz's own result page
    assert learner.exit().status_code == 303
    cool_down_over()

    second = lms.launch("alpha", registration=first.registration)
    again = launched(second, on=make_client())
    again.take_quiz("alpha", right=True)
    again.exit()
    assert lms.verbs(second) == ["initialized", "passed", "terminated"]
    assert lms.verbs() == ["initialized", "failed", "completed", "terminated"] + lms.verbs(second)
    assert_conformant(lms, first, second)


def test_a_second_attempt_in_the_same_session_is_not_reported(db, lms, launched, cool_down_over):
    launch = lms.launch("alpha")
    learner = launched(launch)
    learner.take_quiz("alpha", right=False)
    cool_down_over()
    learner.take_quiz("alpha", right=True)
    assert lms.verbs(launch) == ["initialized", "failed"]
    page = learner.session_page().get_data(as_text=True)
    assert "To report another attempt, exit and start the module again" in page
    learner.exit()
    assert lms.verbs(launch) == ["initialized", "failed", "terminated"]
    assert_conformant(lms, launch)


def test_after_a_pass_a_later_session_reports_no_result_again(db, lms, launched, make_client):
    first = lms.launch("alpha")
    learner = launched(first)
    learner.take_quiz("alpha", right=True)
    learner.exit()
    second = lms.launch("alpha", registration=first.registration)
    again = launched(second, on=make_client())
    again.read_all_lessons("alpha")
    again.exit()
    assert lms.verbs(first) == ["initialized", "passed", "terminated"]
    assert lms.verbs(second) == ["initialized", "completed", "terminated"]
    assert_conformant(lms, first, second)


def test_passed_needs_the_lms_mastery_score_not_only_the_modules_pass_mark(db, lms, launched):
    launch = lms.launch("alpha", mastery_score=0.95)
    learner = launched(launch)
    learner.take_quiz("alpha", right=True, wrong=1)  # six of seven right: 0.857
    attempt = db.session.scalar(sa.select(Attempt))
    assert attempt.passed  # by the module's own pass mark, 0.8
    assert lms.verbs(launch) == ["initialized", "failed"]
    failed = lms.received(launch)[1]
    assert failed["result"]["score"]["scaled"] == round(attempt.score_scaled, 4) < 0.95
    assert failed["result"]["success"] is False
    assert failed["context"]["extensions"][MASTERY_SCORE] == 0.95
    assert_conformant(lms, launch)


@pytest.mark.parametrize("mode", ["Browse", "Review"])
def test_browse_and_review_send_only_initialized_and_terminated(db, lms, launched, mode):
    launch = lms.launch("alpha", mode=mode)
    learner = launched(launch)
    page = learner.session_page().get_data(as_text=True)
    assert "no progress or result is reported" in page
    learner.read_all_lessons("alpha")
    learner.take_quiz("alpha", right=True)
    learner.exit()
    assert lms.verbs(launch) == ["initialized", "terminated"]
    assert_conformant(lms, launch)


def test_the_learner_preference_sets_the_interface_language(db, lms, launched):
    lms.preferences["learner-1625378"] = {
        "languagePreference": "fr-BE,en-US",
        "audioPreference": "on",
    }
    learner = launched(lms.launch("alpha"))
    page = learner.session_page().get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Quitter" in page


def test_the_auth_token_never_reaches_the_browser(db, lms, launched):
    launch = lms.launch("alpha")
    learner = launched(launch)
    learner.read_all_lessons("alpha")
    pages = [
        learner.session_page(),
        learner.client.get("/modules/alpha"),
        learner.take_quiz("alpha", right=True),
    ]
    for page in pages:
        assert launch.token not in page.get_data(as_text=True)
        assert launch.token not in str(page.headers)
    stored = db.session.scalar(sa.select(Cmi5Session))
    assert stored.auth_token == launch.token
    assert launch.token not in repr(stored)


def test_a_relaunch_abandons_the_older_session_and_reports_to_the_new_one(
    db, lms, launched, make_client
):
    first = lms.launch("alpha")
    launched(first)
    second = lms.launch("alpha", registration=first.registration)
    learner = launched(second, on=make_client())
    learner.take_quiz("alpha", right=True)
    assert lms.verbs(first) == ["initialized"]
    assert lms.verbs(second) == ["initialized", "passed"]
    states = dict(db.session.execute(sa.select(Cmi5Session.session_id, Cmi5Session.state)).all())
    assert states == {first.session_id: "abandoned", second.session_id: "open"}


def test_every_statement_passes_the_strict_xapi_validator(
    db, lms, launched, make_client, cool_down_over, strict_validator
):
    first = lms.launch("alpha")
    learner = launched(first)
    learner.read_all_lessons("alpha")
    learner.take_quiz("alpha", right=False)
    learner.exit()
    cool_down_over()
    second = lms.launch("alpha", registration=first.registration, mode="Normal")
    again = launched(second, on=make_client())
    again.take_quiz("alpha", right=True)
    again.exit()
    statements = lms.received()
    assert {s["verb"]["id"].rsplit("/", 1)[-1] for s in statements} == {
        "initialized",
        "failed",
        "completed",
        "passed",
        "terminated",
    }
    reports = strict_validator(statements)
    assert [r for r in reports if r["errors"]] == []
    assert_conformant(lms, first, second)
