"""Practical types in the matrix, and bookings, sign-offs (with corrections) and waivers
on the learner's record page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from lms.practicals.models import Booking, PracticalSession, SignOff, Waiver
from tests.dashboard.test_matrix import cells
from tests.practicals.conftest import load_types


@pytest.fixture()
def gowning(db, world, loaded, clock):
    """A past gowning session of Acme where the learner was failed, then corrected to a
    pass; the other Acme learner holds a seat at an upcoming one; a waiver."""
    load_types(db)
    trainer, learner = world["trainer"], world["learner"]

    def session(days):
        item = PracticalSession(
            type_id="grade-b-gowning",
            organisation_id=trainer.organisation_id,
            starts_at=clock.now() + timedelta(days=days),
            ends_at=clock.now() + timedelta(days=days, hours=2),
            room="Clean room 2",
            trainer_id=trainer.id,
            capacity=4,
            created_by_id=trainer.id,
        )
        db.session.add(item)
        db.session.flush()
        return item

    past, upcoming = session(-3), session(5)
    db.session.add(Booking(session_id=past.id, learner_id=learner.id, state="booked", position=1))
    signed = {
        "session_id": past.id,
        "learner_id": learner.id,
        "type_id": "grade-b-gowning",
        "type_content_hash": "x" * 64,
        "signer_id": trainer.id,
        "signer_name": "Tom Trainer",
        "meaning": "performed-and-approved-by",
    }
    first = SignOff(outcome="fail", comments="Touched the mask", **signed)
    db.session.add(first)
    db.session.flush()
    db.session.add(SignOff(outcome="pass", comments="Re-assessed", corrects_id=first.id, **signed))
    db.session.add(
        Waiver(
            learner_id=learner.id,
            type_id="aseptic-filling",
            condition_key="qualification_valid:aseptic-handling",
            reason="Holds the equivalent site certificate",
            signer_id=trainer.id,
            signer_name="Tom Trainer",
            meaning="approved-by",
        )
    )
    other = world["other_learner"]
    db.session.add(Booking(session_id=upcoming.id, learner_id=other.id, state="booked", position=1))
    db.session.commit()
    return {"other": other}


def test_practical_columns_show_the_effective_sign_off(db, as_role, world, gowning, make_user):
    booked = make_user("learner", world["learner"].organisation, display_name="Booked")
    upcoming = db.session.query(PracticalSession).order_by(PracticalSession.id.desc()).first()
    db.session.add(
        Booking(session_id=upcoming.id, learner_id=booked.id, state="booked", position=2)
    )
    db.session.commit()
    html = as_role("trainer").get("/dashboard/").get_data(as_text=True)
    assert cells(html, world["learner"])["practical:grade-b-gowning"] == "passed"
    assert cells(html, booked)["practical:grade-b-gowning"] == "in_progress"
    assert cells(html, booked)["practical:aseptic-filling"] == "not_started"
    assert "Grade B gowning" in html
    assert gowning["other"].public_id not in html  # booked elsewhere, another organisation


def test_the_record_lists_bookings_sign_offs_and_waivers(as_role, world, gowning):
    html = as_role("trainer").get(f"/dashboard/learners/{world['learner'].public_id}")
    text = html.get_data(as_text=True)
    assert "Clean room 2" in text and "Seat booked" in text
    assert "Touched the mask" in text and "Re-assessed" in text and "(correction)" in text
    assert "Holds the equivalent site certificate" in text
    assert len(re.findall(r"<caption", text)) == 3  # bookings, sign-offs, waivers


def test_another_organisations_admin_cannot_open_the_record(as_role, world, gowning):
    client = as_role("other_admin")
    assert client.get(f"/dashboard/learners/{world['learner'].public_id}").status_code == 404
