"""The admins' token pages: who may list, create and revoke, and what each one sees."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lms.api.models import ApiToken
from lms.audit.models import AuditRecord
from tests.conftest import csrf_token, expect_outcome, login, post_form

ROLES = ["anonymous", "learner", "trainer", "admin", "other_admin", "centre_admin"]
ALLOWED = {"admin", "other_admin", "centre_admin"}


def _as(client, people, role):
    if role != "anonymous":
        assert login(client, people[role]).status_code == 302
    return client


@pytest.fixture()
def tokens(people, make_token):
    """A token of Acme and one of Other."""
    return {
        "acme": make_token(people["acme"], name="Acme Moodle")[0],
        "other": make_token(people["other"], name="Other Totara")[0],
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", ["/api-tokens/", "/api-tokens/new"])
def test_who_may_open_the_token_pages(client, people, role, path):
    response = _as(client, people, role).get(path)
    if role == "anonymous":
        expect_outcome(response, "login")
    else:
        expect_outcome(response, 200 if role in ALLOWED else 403)


@pytest.mark.parametrize(
    ("role", "sees"),
    [("admin", {"Acme Moodle"}), ("other_admin", {"Other Totara"}), ("centre_admin", None)],
)
def test_each_admin_lists_their_organisations_tokens(client, people, tokens, role, sees):
    html = _as(client, people, role).get("/api-tokens/").get_data(as_text=True)
    shown = {name for name in ("Acme Moodle", "Other Totara") if name in html}
    assert shown == (sees or {"Acme Moodle", "Other Totara"})
    visible = [token for token in tokens.values() if token.name in shown]
    assert all(token.prefix in html for token in visible)


def test_creating_a_token_shows_it_once_and_stores_its_hash(client, db, people):
    _as(client, people, "admin")
    response = post_form(
        client,
        "/api-tokens/new",
        {"organisation": people["acme"].slug, "name": "Moodle", "scope": "write"},
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    plain = re.search(r'value="(lms_[0-9a-f]{12}_[A-Za-z0-9_-]+)"', html).group(1)
    token = db.session.scalar(sa.select(ApiToken))
    assert token.scope == "write" and token.organisation_id == people["acme"].id
    assert token.created_by_id == people["admin"].id
    assert plain.startswith(token.prefix) and plain != token.secret_hash
    assert response.headers["Cache-Control"] == "no-store"
    listing = client.get("/api-tokens/").get_data(as_text=True)
    assert token.prefix in listing and plain not in listing
    assert (
        client.get("/api/v1/modules", headers={"Authorization": f"Bearer {plain}"}).status_code
        == 200
    )
    actions = db.session.scalars(sa.select(AuditRecord.action)).all()
    assert "api.token.created" in actions


def test_an_admin_cannot_create_a_token_for_another_organisation(client, db, people):
    _as(client, people, "admin")
    response = post_form(
        client,
        "/api-tokens/new",
        {"organisation": people["other"].slug, "name": "Sneaky", "scope": "read"},
    )
    assert response.status_code == 200
    assert "Not a valid choice" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_the_centre_admin_creates_a_token_for_any_organisation(client, db, people):
    _as(client, people, "centre_admin")
    post_form(
        client,
        "/api-tokens/new",
        {"organisation": people["other"].slug, "name": "For Other", "scope": "read"},
    )
    assert db.session.scalar(sa.select(ApiToken.organisation_id)) == people["other"].id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scope": "read"}, "This field is required."),
        ({"name": "x", "scope": "root"}, "Not a valid choice"),
        ({"name": "x", "scope": "read", "expires_on": "2001-01-01"}, "must be in the future"),
    ],
)
def test_the_form_explains_what_is_wrong(client, db, people, data, message):
    _as(client, people, "admin")
    response = post_form(client, "/api-tokens/new", {"organisation": people["acme"].slug, **data})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


def test_an_expiry_date_is_kept(client, db, people):
    _as(client, people, "admin")
    post_form(
        client,
        "/api-tokens/new",
        {
            "organisation": people["acme"].slug,
            "name": "x",
            "scope": "read",
            "expires_on": "2999-05-01",
        },
    )
    token = db.session.scalar(sa.select(ApiToken))
    assert token.expires_at.isoformat() == "2999-05-01T00:00:00+00:00"


@pytest.mark.parametrize("role", ROLES)
def test_who_may_revoke_acmes_token(client, db, people, tokens, role):
    token = tokens["acme"]
    _as(client, people, role)
    form_page = "/api-tokens/" if role in ALLOWED else "/login"
    response = client.post(
        f"/api-tokens/{token.id}/revoke", data={"csrf_token": csrf_token(client, form_page)}
    )
    db.session.refresh(token)
    if role in ("admin", "centre_admin"):
        expect_outcome(response, 302)
        assert token.is_revoked
        assert token.revoked_by_id == people[role].id
    else:
        expected = {"anonymous": "login", "other_admin": 404}.get(role, 403)
        expect_outcome(response, expected)
        assert not token.is_revoked


def test_revoking_needs_the_forms_csrf_token(client, db, people, tokens):
    _as(client, people, "admin")
    response = client.post(f"/api-tokens/{tokens['acme'].id}/revoke")
    assert response.status_code == 400
    db.session.refresh(tokens["acme"])
    assert not tokens["acme"].is_revoked


def test_a_revoked_token_shows_as_revoked_and_cannot_be_revoked_again(client, db, people, tokens):
    _as(client, people, "admin")
    path = f"/api-tokens/{tokens['acme'].id}/revoke"
    post_form(client, path, {}, form_path="/api-tokens/")
    html = client.get("/api-tokens/").get_data(as_text=True)
    assert "Revoked on" in html
    response = post_form(client, path, {}, form_path="/api-tokens/")
    assert response.status_code == 302
    assert "already revoked" in client.get("/api-tokens/").get_data(as_text=True)


def test_the_token_list_is_translated(client, people, tokens):
    _as(client, people, "admin")
    client.post("/language", data={"language": "fr", "csrf_token": csrf_token(client, "/")})
    html = client.get("/api-tokens/").get_data(as_text=True)
    assert "Jetons d’API" in html or "Jetons d'API" in html
