"""Grade passback: the quiz score of a launched learner reaches the platform's AGS
endpoint, with a token obtained by our signed client-credentials JWT."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.db_types import utcnow
from lms.lti import delivery
from lms.lti.models import ResourceLink, ScorePost
from lms.quiz import services as quiz
from lms.quiz.models import Attempt
from tests.conftest import csrf_token
from tests.lti.conftest import launch
from tests.quiz.helpers import attempt_form


def take_quiz(client, db, right_count: int) -> Attempt:
    """Start and submit the alpha quiz through its pages, ``right_count`` answers right."""
    token = csrf_token(client, "/modules/alpha/quiz")
    started = client.post("/modules/alpha/quiz/start", data={"csrf_token": token})
    assert started.status_code == 302, started.get_data(as_text=True)[:300]
    public_id = started.headers["Location"].rsplit("/", 1)[-1]
    page = client.get(f"/attempts/{public_id}")
    assert page.status_code == 200
    attempt = db.session.scalar(sa.select(Attempt).where(Attempt.public_id == public_id))
    questions = quiz.questions_of(attempt)
    right = {question["id"] for question in questions[:right_count]}
    form = attempt_form(questions, right=right)
    form.add("csrf_token", csrf_token(client, f"/attempts/{public_id}"))
    form.add("action", "submit")
    submitted = client.post(f"/attempts/{public_id}", data=form)
    assert submitted.status_code == 302 and submitted.headers["Location"].endswith("/result")
    db.session.expire_all()
    return db.session.get(Attempt, attempt.id)


def _publish_our_keys(client, sim) -> None:
    """The platform fetches our JWKS (it checks our client-credentials JWT with it)."""
    sim.tool_jwks = client.get("/lti/jwks.json").get_json()


def test_the_quiz_score_arrives_at_the_platforms_ags_endpoint(db, client, sim, registered, loaded):
    assert launch(client, sim).status_code == 302
    attempt = take_quiz(client, db, right_count=5)
    queued = db.session.scalars(sa.select(ScorePost)).all()
    assert len(queued) == 1 and queued[0].status == "pending"
    assert sim.scores == []  # nothing leaves inside the learner's request

    _publish_our_keys(client, sim)
    report = delivery.send_due()
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)

    [token_request] = sim.token_requests
    assert token_request["verified"], token_request.get("error")
    assert token_request["header"]["kid"] == sim.tool_jwks["keys"][0]["kid"]
    assert token_request["claims"]["sub"] == sim.client_id
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in token_request["scope"]

    [score] = sim.scores
    assert score["authorised"]
    assert score["path"] == "/courses/7/lineitems/1/scores"
    assert score["content_type"] == "application/vnd.ims.lis.v1.score+json"
    body = score["body"]
    assert body["userId"] == "platform-user-1"
    assert body["scoreGiven"] == pytest.approx(attempt.score_raw)
    assert body["scoreMaximum"] == pytest.approx(attempt.score_max)
    assert 0 < body["scoreGiven"] < body["scoreMaximum"]
    assert body["activityProgress"] == "Completed"
    assert body["gradingProgress"] == "FullyGraded"
    assert body["timestamp"] == attempt.submitted_at.isoformat(timespec="milliseconds")
    assert body["timestamp"].endswith("+00:00")
    db.session.expire_all()
    sent = db.session.get(ScorePost, queued[0].id)
    assert sent.status == "sent" and sent.sent_at is not None
    assert delivery.send_due().settled == 0  # sent once only


def test_the_best_attempt_is_what_the_grade_book_keeps(
    db, client, sim, registered, loaded, monkeypatch
):
    from lms.quiz import clock

    launch(client, sim)
    first = take_quiz(client, db, right_count=6)
    later = utcnow() + timedelta(hours=2)
    monkeypatch.setattr(clock, "now", lambda: later)
    second = take_quiz(client, db, right_count=1)
    assert second.score_raw < first.score_raw
    _publish_our_keys(client, sim)
    assert delivery.send_due().sent == 2
    latest = max(sim.scores, key=lambda score: score["body"]["timestamp"])
    assert latest["body"]["scoreGiven"] == pytest.approx(first.score_raw)
    assert latest["body"]["timestamp"] == second.submitted_at.isoformat(timespec="milliseconds")


def test_a_missing_line_item_is_created_in_the_course_first(db, client, sim, registered, loaded):
    launch(client, sim, lineitem=False)
    take_quiz(client, db, right_count=7)
    _publish_our_keys(client, sim)
    assert delivery.send_due().sent == 1
    [item] = sim.lineitems.values()
    assert item["resourceLinkId"] == "link-1" and item["scoreMaximum"] == 100
    assert item["resourceId"] == "alpha"
    assert sim.scores[0]["path"] == "/courses/7/lineitems/1/scores"
    db.session.expire_all()
    assert db.session.scalar(sa.select(ResourceLink)).lineitem_url == sim.lineitem_url(1)


def test_no_score_is_queued_without_the_platforms_score_scope(db, client, sim, registered, loaded):
    launch(client, sim, ags=False)
    take_quiz(client, db, right_count=7)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScorePost)) == 0


def test_a_learner_who_never_came_through_lti_owes_no_score(
    db, client, make_client, sim, registered, loaded, make_user, acme, login_as
):
    launch(client, sim)
    other = login_as(make_user("learner", acme), on=make_client())
    take_quiz(other, db, right_count=7)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ScorePost)) == 0


def test_a_platform_that_is_down_gets_the_score_later(db, client, sim, registered, loaded):
    launch(client, sim)
    take_quiz(client, db, right_count=4)
    _publish_our_keys(client, sim)
    sim.score_status = 503
    report = delivery.send_due()
    assert (report.sent, report.retried) == (0, 1)
    db.session.expire_all()
    post = db.session.scalar(sa.select(ScorePost))
    assert post.status == "pending" and "HTTP 503" in post.last_error
    assert post.next_attempt_at > utcnow()
    assert delivery.send_due().settled == 0  # not due yet
    sim.score_status = 200
    assert delivery.send_due(now=post.next_attempt_at).sent == 1


def test_a_token_refused_because_the_platform_does_not_know_our_key_is_retried(
    db, client, sim, registered, loaded
):
    launch(client, sim)
    take_quiz(client, db, right_count=4)
    sim.tool_jwks = {"keys": []}  # not fetched yet
    assert delivery.send_due().retried == 1
    assert sim.token_requests[0]["verified"] is False


def test_a_score_refused_for_good_is_set_aside_and_can_be_resent(
    db, client, sim, registered, loaded, make_user, acme
):
    launch(client, sim)
    take_quiz(client, db, right_count=4)
    _publish_our_keys(client, sim)
    sim.score_status = 400
    assert delivery.send_due().failed == 1
    db.session.expire_all()
    assert db.session.scalar(sa.select(ScorePost)).status == "failed"
    sim.score_status = 200
    admin = make_user("admin", acme)
    assert delivery.resend_failed(registered, by=admin) == 1
    db.session.commit()
    assert delivery.send_due().sent == 1


def test_retries_stop_after_the_retry_age(db, client, sim, registered, loaded):
    launch(client, sim)
    take_quiz(client, db, right_count=4)
    _publish_our_keys(client, sim)
    sim.score_status = 503
    post = db.session.scalar(sa.select(ScorePost))
    late = post.queued_at + delivery.MAX_RETRY_AGE
    assert delivery.send_due(now=late).failed == 1


def test_a_claimed_score_is_not_claimed_again_during_its_lease(db, client, sim, registered, loaded):
    launch(client, sim)
    take_quiz(client, db, right_count=4)
    now = utcnow()
    assert len(delivery.claim_due(now)) == 1
    assert delivery.claim_due(now) == []
    assert len(delivery.claim_due(now + delivery.LEASE)) == 1


def test_the_worker_command_sends_what_is_due(app, db, client, sim, registered, loaded):
    launch(client, sim)
    take_quiz(client, db, right_count=4)
    _publish_our_keys(client, sim)
    result = app.test_cli_runner().invoke(args=["lms", "lti", "scores", "send"])
    assert result.exit_code == 0, result.output
    assert "Scores sent: 1" in result.output
    assert len(sim.scores) == 1
