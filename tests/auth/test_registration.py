"""Self-registration into an organisation that allows it; bad input changes nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.auth.models import User
from tests.conftest import post_form


def user_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


@pytest.fixture()
def open_org(make_org):
    return make_org("Open Campus", self_registration=True)


def form(org, **overrides):
    data = {
        "organisation": org.slug,
        "display_name": "Inès Dupont",
        "email": "ines.dupont@example.org",
        "password": "a long enough password",
        "confirm": "a long enough password",
        "learner_category": "job_seeker",
        "sector": "biopharma",
        "language": "fr",
    }
    return {**data, **overrides}


def test_registration_creates_a_learner_and_logs_in(client, open_org, db):
    response = post_form(client, "/register", form(open_org))
    assert response.status_code == 302
    user = db.session.scalar(sa.select(User).where(User.email == "ines.dupont@example.org"))
    assert (user.role, user.learner_category, user.sector, user.language) == (
        "learner",
        "job_seeker",
        "biopharma",
        "fr",
    )
    assert user.organisation_id == open_org.id
    assert "Bienvenue" in client.get("/").get_data(as_text=True)


def test_closed_organisation_is_not_offered_and_cannot_be_forced(client, make_org, open_org, db):
    closed = make_org("Closed Corp")
    page = client.get("/register").get_data(as_text=True)
    assert "Open Campus" in page and "Closed Corp" not in page
    before = user_count(db)
    response = post_form(client, "/register", form(closed))
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert user_count(db) == before


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"organisation": "no-such-org"}, "Not a valid choice"),
        ({"email": "not-an-email"}, "Enter a valid e-mail address."),
        ({"email": "x" * 250 + "@example.org"}, "at most 254 characters"),
        ({"display_name": "n" * 121}, "Use between 1 and 120 characters."),
        ({"display_name": ""}, "This field is required."),
        ({"password": "short", "confirm": "short"}, "Use at least 10 characters."),
        ({"confirm": "something else entirely"}, "The two passwords differ."),
        ({"learner_category": "astronaut"}, "Not a valid choice"),
    ],
)
def test_bad_input_gets_a_clear_message_and_creates_nothing(
    client, open_org, db, overrides, message
):
    before = user_count(db)
    response = post_form(client, "/register", form(open_org, **overrides))
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert user_count(db) == before


def test_duplicate_email_in_another_case_is_refused(client, open_org, make_user, db):
    make_user(email="ines.dupont@example.org", org=open_org)
    before = user_count(db)
    response = post_form(client, "/register", form(open_org, email="INES.Dupont@Example.ORG"))
    assert response.status_code == 200
    assert "An account with this e-mail address already exists." in response.get_data(as_text=True)
    assert user_count(db) == before


def test_register_page_says_when_no_organisation_is_open(client, make_org):
    make_org("Closed Corp")
    html = client.get("/register").get_data(as_text=True)
    assert "No organisation accepts self-registration" in html
