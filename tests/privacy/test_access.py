"""Every privacy route for every role: who may, who may not."""

from __future__ import annotations

import pytest

from tests.conftest import ROLES, as_role, csrf_token
from tests.conftest import expect_outcome as expect


@pytest.fixture()
def world(two_organisations):
    return two_organisations


def _path(template: str, world) -> str:
    people = world["people"]
    return template.format(learner=people["learner"].public_id, trainer=people["trainer"].public_id)


# (path, outcome for each of ROLES: anonymous, learner, trainer, admin, other_admin, centre_admin)
GET_MATRIX = [
    ("/account/export", [405, 405, 405, 405, 405, 405]),
    ("/people/{learner}/pseudonymise", ["login", 403, 403, 200, 404, 200]),
    ("/people/{trainer}/pseudonymise", ["login", 403, 403, 404, 404, 404]),
]

POST_MATRIX = [
    ("/account/export", ["login", 200, 200, 200, 200, 200]),
    # Without the password and the tick the form comes back with its errors.
    ("/people/{learner}/pseudonymise", ["login", 403, 403, 200, 404, 200]),
    ("/people/{trainer}/pseudonymise", ["login", 403, 403, 404, 404, 404]),
]


@pytest.mark.parametrize("template,outcomes", GET_MATRIX, ids=[row[0] for row in GET_MATRIX])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_get_routes_by_role(client, world, template, outcomes, role_index):
    as_role(client, world, ROLES[role_index])
    expect(client.get(_path(template, world)), outcomes[role_index])


@pytest.mark.parametrize("template,outcomes", POST_MATRIX, ids=[row[0] for row in POST_MATRIX])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_post_routes_by_role(client, world, template, outcomes, role_index):
    as_role(client, world, ROLES[role_index])
    token = csrf_token(client, "/")
    response = client.post(_path(template, world), data={"csrf_token": token})
    expect(response, outcomes[role_index])


@pytest.mark.parametrize("role", ["learner", "trainer", "admin", "centre_admin"])
def test_everyone_downloads_only_their_own_profile(client, world, role):
    import json

    as_role(client, world, role)
    token = csrf_token(client, "/account")
    data = json.loads(client.post("/account/export", data={"csrf_token": token}).get_data())
    assert data["profile"]["id"] == world["people"][role].public_id
    others = [p for name, p in world["people"].items() if name != role]
    text = json.dumps(data)
    assert not [p.email for p in others if p.email in text]
