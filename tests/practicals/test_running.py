"""Check-in, signed sign-offs and corrections, signed waivers: the trainer's side."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.db_types import utcnow
from lms.practicals import booking as booking_service
from lms.practicals import records
from lms.practicals.models import Attendance, SignOff, Waiver
from lms.xapi.models import Statement
from tests.conftest import DEFAULT_PASSWORD, post_form


@pytest.fixture()
def today(db, world, make_session, gowning_ready):
    """A gowning session starting in an hour, booked by the learner."""
    session = make_session(starts_in=timedelta(hours=1), booking_closes_hours=0)
    gowning_ready(world["learner"])
    booking_service.book(session, world["learner"], utcnow())
    db.session.commit()
    return session


def roster_url(session):
    return f"/practicals/sessions/{session.public_id}"


def learner_url(session, learner, action):
    return f"{roster_url(session)}/learners/{learner.public_id}/{action}"


def check_in(client, session, learner):
    return post_form(client, learner_url(session, learner, "check-in"), {}, roster_url(session))


def sign(client, session, learner, **data):
    data = {"outcome": "pass", "comments": "", "password": DEFAULT_PASSWORD, **data}
    url = learner_url(session, learner, "sign-off")
    return post_form(client, url, data)


def count(db, model, **where):
    db.session.expire_all()
    query = sa.select(sa.func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


def kinds(db):
    return [s.kind for s in db.session.scalars(sa.select(Statement).order_by(Statement.id))]


def test_the_roster_shows_eligibility_at_a_glance(world, as_role, today):
    html = as_role("trainer").get(roster_url(today)).get_data(as_text=True)
    assert world["learner"].display_name in html
    assert 'class="ok"' in html
    assert f"Check in {world['learner'].display_name}" in html


def test_check_in_then_signed_pass_makes_the_learner_eligible_for_filling(
    db, world, as_role, today, passes
):
    client = as_role("trainer")
    assert check_in(client, today, world["learner"]).status_code == 302
    assert count(db, Attendance) == 1
    response = sign(client, today, world["learner"], comments="Clean technique.")
    assert response.status_code == 302
    (record,) = db.session.scalars(sa.select(SignOff)).all()
    assert (record.outcome, record.signer_id, record.signer_name, record.meaning) == (
        "pass",
        world["trainer"].id,
        world["trainer"].display_name,
        "performed-and-approved-by",
    )
    assert record.signed_at.tzinfo is not None
    assert kinds(db)[-2:] == ["practical.attended", "practical.passed"]
    body = json.loads(db.session.scalars(sa.select(Statement)).all()[-1].body)
    assert body["context"]["instructor"]["account"]["name"] == world["trainer"].public_id
    assert body["result"]["success"] is True
    assert records.signed_off_types(world["learner"].id) == {"grade-b-gowning": record.signed_at}
    actions = db.session.scalars(sa.select(AuditRecord.action)).all()
    assert "practical.sign_off.signed" in actions


def test_a_sign_off_without_a_valid_signature_changes_nothing(db, world, as_role, today):
    client = as_role("trainer")
    check_in(client, today, world["learner"])
    response = sign(client, today, world["learner"], password="wrong password")
    assert response.status_code == 200
    assert "nothing was signed" in response.get_data(as_text=True)
    assert count(db, SignOff) == 0
    assert "practical.passed" not in kinds(db)
    assert count(db, AuditRecord, action="signature.refused") == 1


def test_a_sign_off_needs_attendance(db, world, as_role, today):
    sign(as_role("trainer"), today, world["learner"])
    assert count(db, SignOff) == 0


def test_a_sign_off_is_never_edited_a_correction_is_a_new_signed_record(db, world, as_role, today):
    client = as_role("trainer")
    check_in(client, today, world["learner"])
    sign(client, today, world["learner"], outcome="pass")
    first = db.session.scalars(sa.select(SignOff)).one()
    sign(client, today, world["learner"], outcome="fail")  # no correction named: refused
    assert count(db, SignOff) == 1
    sign(client, today, world["learner"], outcome="fail", corrects=str(first.id))  # no reason
    assert count(db, SignOff) == 1
    sign(
        client,
        today,
        world["learner"],
        outcome="fail",
        corrects=str(first.id),
        comments="Touched the outside of the gown; recorded as pass by mistake.",
    )
    db.session.expire_all()
    first_again, correction = db.session.scalars(sa.select(SignOff).order_by(SignOff.id)).all()
    assert (first_again.outcome, correction.outcome, correction.corrects_id) == (
        "pass",
        "fail",
        first.id,
    )
    assert records.signed_off_types(world["learner"].id) == {}
    assert kinds(db)[-1] == "practical.failed"
    html = client.get(roster_url(today)).get_data(as_text=True)
    assert "Correction:" in html and "(replaced)" in html


def test_a_qualification_expired_since_booking_is_flagged_at_check_in(
    db, world, as_role, today, passes
):
    passes.held[world["learner"].id] = []  # the passes were withdrawn after booking
    passes(world["learner"], "gmp-fundamentals")
    passes(world["learner"], "aseptic-handling", valid_until=utcnow() + timedelta(minutes=30))
    client = as_role("trainer")
    html = client.get(roster_url(today)).get_data(as_text=True)
    assert 'class="flag"' in html and "before the session" in html
    check_in(client, today, world["learner"])
    assert count(db, Attendance) == 0


def test_a_signed_waiver_lets_the_learner_in_and_shows_on_the_roster(
    db, world, as_role, today, passes
):
    passes.held[world["learner"].id] = []
    passes(world["learner"], "gmp-fundamentals")
    client = as_role("trainer")
    url = learner_url(today, world["learner"], "waiver")
    key = "qualification_valid:aseptic-handling"
    data = {"condition": key, "reason": "Qualified at her previous employer", "password": "nope"}
    assert post_form(client, url, data).status_code == 200
    assert count(db, Waiver) == 0
    response = post_form(client, url, {**data, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    waiver = db.session.scalars(sa.select(Waiver)).one()
    assert (waiver.condition_key, waiver.signer_id, waiver.meaning) == (
        key,
        world["trainer"].id,
        "approved-by",
    )
    assert "prerequisite.waived" in kinds(db)
    assert count(db, AuditRecord, action="practical.waiver.signed") == 1
    html = client.get(roster_url(today)).get_data(as_text=True)
    assert "Waived:" in html and "previous employer" in html
    check_in(client, today, world["learner"])
    assert count(db, Attendance) == 1


def test_a_met_condition_cannot_be_waived(db, world, as_role, today):
    url = learner_url(today, world["learner"], "waiver")
    data = {
        "condition": "qualification_valid:aseptic-handling",
        "reason": "No reason at all",
        "password": DEFAULT_PASSWORD,
    }
    post_form(as_role("trainer"), url, data)
    assert count(db, Waiver) == 0


def test_check_in_opens_shortly_before_the_start(db, world, as_role, make_session, gowning_ready):
    session = make_session(starts_in=timedelta(days=2), booking_closes_hours=0)
    gowning_ready(world["learner"])
    booking_service.book(session, world["learner"], utcnow())
    db.session.commit()
    check_in(as_role("trainer"), session, world["learner"])
    assert count(db, Attendance) == 0


def test_cancelling_a_session_cancels_its_bookings(db, world, as_role, today):
    client = as_role("trainer")
    url = f"{roster_url(today)}/cancel"
    assert post_form(client, url, {}, roster_url(today)).status_code == 302
    db.session.expire_all()
    assert today.status == "cancelled"
    assert booking_service.live_booking(today, world["learner"]) is None
    assert kinds(db)[-1] == "practical.cancelled"
