"""Every catalog route for every role: who may, who may not."""

from __future__ import annotations

import pytest

from lms.catalog.models import Module
from tests.conftest import csrf_token, expect_outcome

ROLES = ["anonymous", "learner", "trainer", "admin", "other_learner", "other_admin", "centre_admin"]

# path, then the outcome for each of ROLES, in order
GET_MATRIX = [
    ("/modules/", ["login", 200, 200, 200, 200, 200, 200]),
    ("/modules/?sector=chemistry&q=safety", ["login", 200, 200, 200, 200, 200, 200]),
    ("/modules/alpha", ["login", 200, 200, 200, 200, 200, 200]),
    ("/modules/beta", ["login", 200, 200, 200, 200, 200, 200]),
    ("/modules/nowhere", ["login", 404, 404, 404, 404, 404, 404]),
    ("/modules/alpha/lessons/first", ["login", 200, 200, 200, 200, 200, 200]),
    ("/modules/alpha/lessons/second", ["login", 200, 200, 200, 200, 200, 200]),
    ("/modules/alpha/lessons/nowhere", ["login", 404, 404, 404, 404, 404, 404]),
    ("/modules/beta/lessons/only", ["login", "gated", 200, 200, "gated", 200, 200]),
    ("/modules/alpha/files/{hash}/cascade.svg", ["login", 200, 200, 200, 200, 200, 200]),
    ("/modules/alpha/files/{hash}/missing.svg", ["login", 404, 404, 404, 404, 404, 404]),
    ("/modules/alpha/files/{hash}/..%2fmodule.yaml", [404, 404, 404, 404, 404, 404, 404]),
    ("/modules/beta/files/{hash}/cascade.svg", ["login", 404, 404, 404, 404, 404, 404]),
    ("/admin/modules/", ["login", 403, 403, 200, 403, 200, 200]),
    ("/admin/modules/alpha", ["login", 403, 403, 200, 403, 200, 200]),
    ("/admin/modules/nowhere", ["login", 403, 403, 404, 403, 404, 404]),
]

POST_MATRIX = [
    ("/modules/alpha/lessons/first/read", ["login", 302, 403, 403, 302, 403, 403]),
    ("/modules/beta/lessons/only/read", ["login", 403, 403, 403, 403, 403, 403]),
    ("/modules/nowhere/lessons/first/read", ["login", 404, 404, 404, 404, 404, 404]),
    ("/admin/modules/alpha/retire", ["login", 403, 403, 403, 403, 403, 302]),
    ("/admin/modules/alpha/enable", ["login", 403, 403, 403, 403, 403, 302]),
    ("/admin/modules/nowhere/retire", ["login", 403, 403, 403, 403, 403, 404]),
]


def expect(response, outcome, path=""):
    expect_outcome(response, outcome, redirects={"gated": "/modules/beta"})


def _path(template, db):
    return template.format(hash=db.session.get(Module, "alpha").current_version.content_hash)


@pytest.mark.parametrize("template,outcomes", GET_MATRIX, ids=[row[0] for row in GET_MATRIX])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_get_routes_by_role(db, loaded, as_role, template, outcomes, role_index):
    client = as_role(ROLES[role_index])
    path = _path(template, db)
    expect(client.get(path), outcomes[role_index], path)


@pytest.mark.parametrize("template,outcomes", POST_MATRIX, ids=[row[0] for row in POST_MATRIX])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_post_routes_by_role(db, loaded, as_role, template, outcomes, role_index):
    role = ROLES[role_index]
    client = as_role(role)
    token = csrf_token(client, "/login" if role == "anonymous" else "/modules/")
    expect(client.post(template, data={"csrf_token": token}), outcomes[role_index], template)


@pytest.mark.parametrize(
    "path", ["/modules/alpha/lessons/first/read", "/admin/modules/alpha/retire"]
)
def test_posts_without_csrf_token_are_refused(loaded, as_role, path):
    client = as_role("centre_admin" if "admin" in path else "learner")
    assert client.post(path).status_code == 400
