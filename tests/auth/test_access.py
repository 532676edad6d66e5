"""Every account route for every role: who may, who may not."""

from __future__ import annotations

import pytest

from tests.conftest import ROLES, as_role
from tests.conftest import expect_outcome as expect


@pytest.fixture()
def world(two_organisations):
    return two_organisations


# (path, outcome for each of ROLES: anonymous, learner, trainer, admin, other_admin, centre_admin)
GET_MATRIX = [
    ("/", ["login", 200, 200, 200, 200, 200]),
    ("/login", [200, "home", "home", "home", "home", "home"]),
    ("/register", [200, "home", "home", "home", "home", "home"]),
    ("/account", ["login", 200, 200, 200, 200, 200]),
    ("/account/password", ["login", 200, 200, 200, 200, 200]),
    ("/people/", ["login", 403, 200, 200, 200, 200]),
    ("/people/new", ["login", 403, 403, 200, 200, 200]),
    ("/people/{learner}", ["login", 403, 403, 200, 404, 200]),
    ("/organisations/", ["login", 403, 403, 200, 200, 200]),
    ("/organisations/new", ["login", 403, 403, 403, 403, 200]),
    ("/organisations/{acme}", ["login", 403, 403, 200, 404, 200]),
    ("/audit/", ["login", 403, 403, 200, 200, 200]),
    ("/healthz", [200, 200, 200, 200, 200, 200]),
    ("/password/forgot", [200, 200, 200, 200, 200, 200]),
    ("/password/reset/not-a-real-link", [410, 410, 410, 410, 410, 410]),
    ("/people/{learner}/reset-link", [405, 405, 405, 405, 405, 405]),
]


def _path(template, world):
    return template.format(learner=world["people"]["learner"].public_id, acme=world["acme"].slug)


@pytest.mark.parametrize("template,outcomes", GET_MATRIX, ids=[row[0] for row in GET_MATRIX])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_get_routes_by_role(client, world, template, outcomes, role_index):
    role = ROLES[role_index]
    as_role(client, world, role)
    expect(client.get(_path(template, world)), outcomes[role_index])


POST_MATRIX = [
    ("/people/{learner}/deactivate", ["login", 403, 403, 302, 404, 302]),
    ("/people/{learner}/reactivate", ["login", 403, 403, 302, 404, 302]),
    ("/logout", ["login", 302, 302, 302, 302, 302]),
    ("/language", [302, 302, 302, 302, 302, 302]),
    ("/password/forgot", [200, 200, 200, 200, 200, 200]),
    ("/people/{learner}/reset-link", ["login", 403, 403, 200, 404, 200]),
    # Without SMTP: back to the person's page, saying there is no e-mail server.
    ("/people/{learner}/reset-email", ["login", 403, 403, 302, 404, 302]),
]


@pytest.mark.parametrize("template,outcomes", POST_MATRIX, ids=[row[0] for row in POST_MATRIX])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_post_routes_by_role(client, world, template, outcomes, role_index):
    from tests.conftest import csrf_token

    role = ROLES[role_index]
    as_role(client, world, role)
    token = csrf_token(client, "/")
    response = client.post(_path(template, world), data={"csrf_token": token, "language": "fr"})
    expect(response, outcomes[role_index])


def test_deactivation_by_other_organisation_admin_changes_nothing(client, world, db):
    learner = world["people"]["learner"]
    as_role(client, world, "other_admin")
    from tests.conftest import csrf_token

    client.post(
        f"/people/{learner.public_id}/deactivate", data={"csrf_token": csrf_token(client, "/")}
    )
    db.session.refresh(learner)
    assert learner.active


def test_trainer_list_shows_only_own_organisation(client, world):
    as_role(client, world, "trainer")
    html = client.get("/people/").get_data(as_text=True)
    assert world["people"]["admin"].email in html
    assert world["people"]["other_admin"].email not in html
    assert world["people"]["centre_admin"].email not in html


def test_centre_admin_list_shows_every_organisation(client, world):
    as_role(client, world, "centre_admin")
    html = client.get("/people/").get_data(as_text=True)
    for person in world["people"].values():
        assert person.email in html


def test_organisation_admin_cannot_move_a_user_to_another_organisation(client, world, db):
    from tests.conftest import post_form

    learner = world["people"]["learner"]
    as_role(client, world, "admin")
    response = post_form(
        client,
        f"/people/{learner.public_id}",
        {
            "email": learner.email,
            "display_name": learner.display_name,
            "role": "learner",
            "organisation": world["other"].slug,
            "learner_category": "worker",
            "sector": "",
            "language": "",
        },
    )
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    db.session.refresh(learner)
    assert learner.organisation_id == world["acme"].id


def test_organisation_list_for_org_admin_hides_other_organisations(client, world):
    as_role(client, world, "admin")
    html = client.get("/organisations/").get_data(as_text=True)
    assert "Acme Pharma" in html
    assert "Other Chemicals" not in html
