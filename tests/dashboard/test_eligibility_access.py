"""Who may open the sessions pages and their exports, and what another organisation's
staff see of them (nothing, whatever the filters they craft)."""

# Fixtures imported from test_eligibility are named again as test parameters.
# ruff: noqa: F811

from __future__ import annotations

import pytest

from lms.dashboard import cohorts
from lms.practicals import booking
from tests.conftest import expect_outcome
from tests.dashboard.test_eligibility import grant, labs, schedule  # noqa: F401

LISTS = ["/dashboard/sessions", "/dashboard/sessions.csv", "/dashboard/sessions/blocked.csv"]
SECRETS = ("Acme Learner Zoë", "Acme Expired Yann", "Acme Lab 7", "Acme intake")


@pytest.fixture()
def acme(db, world, make_user, grant, schedule):
    """Acme's Zoë holds a seat at an Acme session in "Acme Lab 7"; Acme's Yann is held back
    by an expired pass; both are in the cohort "Acme intake"."""
    zoe = world["learner"]
    zoe.display_name = "Acme Learner Zoë"
    grant(zoe, "alpha")
    yann = make_user("learner", zoe.organisation, display_name="Acme Expired Yann")
    grant(yann, "alpha", issued_days_ago=400, valid_days=365)
    session = schedule(world["trainer"])
    session.room = "Acme Lab 7"
    booking.book(session, zoe, session.created_at)
    cohort = cohorts.create_cohort(zoe.organisation, "Acme intake", by=world["trainer"])
    for learner in (zoe, yann):
        cohorts.add_member(cohort, learner.public_id, by=world["trainer"])
    world["other_trainer"] = make_user("trainer", world["other_learner"].organisation)
    db.session.commit()
    return {"session": session, "cohort": cohort, "learner": zoe, "yann": yann}


def _private(acme) -> list[str]:
    session, cohort = acme["session"].public_id, acme["cohort"].public_id
    return [
        f"/dashboard/sessions/{session}",
        f"/dashboard/sessions/{session}.csv",
        f"/dashboard/sessions?cohort={cohort}",
        f"/dashboard/sessions.csv?cohort={cohort}",
        f"/dashboard/sessions/blocked.csv?cohort={cohort}",
        f"/dashboard/sessions/{session}?cohort={cohort}",
    ]


#: Per role: the outcome of the lists, and of Acme's session and cohort.
EXPECTED = {
    "anonymous": ("login", "login"),
    "learner": (403, 403),
    "other_learner": (403, 403),
    "trainer": (200, 200),
    "admin": (200, 200),
    "centre_admin": (200, 200),
    "other_admin": (200, 404),
    "other_trainer": (200, 404),
}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_every_route_for_every_role(as_role, acme, role):
    client = as_role(role)
    lists, private = EXPECTED[role]
    for path in LISTS:
        expect_outcome(client.get(path), lists)
    for path in _private(acme):
        expect_outcome(client.get(path), private)


@pytest.mark.parametrize("role", ["trainer", "admin", "centre_admin"])
def test_staff_of_the_organisation_and_the_centre_see_its_sessions(as_role, acme, role):
    client = as_role(role)
    listing = client.get("/dashboard/sessions").get_data(as_text=True)
    assert "Acme Lab 7" in listing and "Acme Expired Yann" in listing
    assert "Acme Lab 7" in client.get("/dashboard/sessions.csv").get_data(as_text=True)
    blocked = client.get("/dashboard/sessions/blocked.csv").get_data(as_text=True)
    assert "Acme Expired Yann" in blocked
    for path in _private(acme)[:2]:
        assert "Acme Learner Zoë" in client.get(path).get_data(as_text=True), path


@pytest.mark.parametrize("role", ["other_admin", "other_trainer"])
def test_another_organisations_staff_never_see_the_data(as_role, acme, role):
    client = as_role(role)
    acme_id = acme["learner"].organisation_id
    for path in LISTS:
        for query in ("", f"?organisation={acme_id}", f"?organisation={acme_id}&page=2"):
            response = client.get(path + query)
            assert response.status_code == 200, path + query
            body = response.get_data(as_text=True)
            for secret in (*SECRETS, acme["learner"].email, acme["session"].public_id):
                assert secret not in body, (path + query, secret)


def test_a_centre_admin_picking_another_organisation_sees_none_of_acme(as_role, acme, world):
    client = as_role("centre_admin")
    other = world["other_learner"].organisation_id
    for path in LISTS:
        body = client.get(f"{path}?organisation={other}").get_data(as_text=True)
        assert "Acme Lab 7" not in body and "Acme Expired Yann" not in body, path
    everyone = client.get("/dashboard/sessions").get_data(as_text=True)
    assert "Acme Lab 7" in everyone and "Acme Pharma" in everyone  # the organisation column


def test_unknown_sessions_and_cohorts_are_not_found(as_role, acme):
    client = as_role("trainer")
    for path in (
        "/dashboard/sessions/nobody",
        "/dashboard/sessions/nobody.csv",
        "/dashboard/sessions/" + "x" * 300,
        "/dashboard/sessions?cohort=" + "x" * 300,
        f"/dashboard/sessions/{acme['session'].public_id}?cohort=nobody",
    ):
        assert client.get(path).status_code == 404, path


def test_only_the_centre_sees_a_centre_session(
    make_user,
    login_as,
    make_client,
    centre,
    schedule,
    world,
):
    session = schedule(make_user("trainer", centre), org=centre)
    path = f"/dashboard/sessions/{session.public_id}"
    trainer = login_as(world["trainer"], on=make_client())
    assert trainer.get(path).status_code == 404
    assert session.public_id not in trainer.get("/dashboard/sessions").get_data(as_text=True)
    admin = login_as(world["centre_admin"], on=make_client())
    assert admin.get(path).status_code == 200
    assert session.public_id in admin.get("/dashboard/sessions").get_data(as_text=True)
