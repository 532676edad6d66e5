"""Health check, error pages (HTML and JSON), security headers, size limit, language."""

from __future__ import annotations

import pytest

from tests.conftest import login, post_form


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_says_503_when_the_database_is_gone(tmp_path):
    from lms import create_app
    from tests.conftest import test_config

    app = create_app(test_config(f"sqlite:///{tmp_path}/missing-dir/db.sqlite3"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"


def test_security_headers_on_every_page(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_http_only_and_same_site(client, make_user):
    response = login(client, make_user())
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_not_found_is_a_page_for_browsers_and_json_for_api_clients(client):
    page = client.get("/no-such-page", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert "There is no page at this address" in page.get_data(as_text=True)
    api = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert api.status_code == 404
    assert api.json["error"]["status"] == 404


def test_forbidden_answers_json_to_json_clients(client, make_user):
    login(client, make_user("learner"))
    response = client.get("/people/", headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert response.json["error"]["title"] == "Not allowed"


def test_oversized_request_is_refused_with_413(client, app):
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/login", data=body, content_type="application/octet-stream")
    assert response.status_code == 413
    assert "larger than this service accepts" in response.get_data(as_text=True)


def test_csrf_failure_answers_json_to_json_clients(client):
    response = client.post("/login", json={"email": "a@example.org"})
    assert response.status_code == 400
    assert "expired" in response.json["error"]["message"]


def test_method_not_allowed_lists_allowed_methods(client):
    response = client.get("/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


def test_unexpected_error_shows_a_500_page_for_people_and_json_for_clients(tmp_path):
    from lms import create_app
    from tests.conftest import test_config

    app = create_app(test_config(f"sqlite:///{tmp_path}/db.sqlite3"))

    @app.route("/_boom")
    def boom():
        raise RuntimeError("boom")

    client = app.test_client()
    page = client.get("/_boom")
    assert page.status_code == 500
    assert "Nothing was saved" in page.get_data(as_text=True)
    assert "RuntimeError" not in page.get_data(as_text=True)
    api = client.get("/_boom", headers={"Accept": "application/json"})
    assert api.status_code == 500 and api.json["error"]["status"] == 500


@pytest.mark.parametrize(
    "accept_language,expected", [("fr-FR,fr;q=0.9,en;q=0.5", "Se connecter"), ("en-GB", "Log in")]
)
def test_language_follows_the_browser(client, accept_language, expected):
    html = client.get("/login", headers={"Accept-Language": accept_language}).get_data(as_text=True)
    assert f"<h1>{expected}</h1>" in html


def test_switcher_changes_language_for_anonymous_visitors(client):
    response = post_form(
        client, "/language", {"language": "fr", "next": "/register"}, form_path="/login"
    )
    assert response.headers["Location"] == "/register"
    assert "<h1>Créez votre compte apprenant</h1>" in client.get("/register").get_data(as_text=True)


def test_switcher_remembers_a_users_choice(client, make_user, db):
    user = make_user()
    login(client, user)
    post_form(client, "/language", {"language": "fr"}, form_path="/")
    db.session.refresh(user)
    assert user.language == "fr"


def test_user_preference_beats_the_browser(client, make_user):
    login(client, make_user(language="fr"))
    html = client.get("/account", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Mon compte</h1>" in html


def test_switcher_ignores_an_offsite_next(client):
    response = post_form(
        client,
        "/language",
        {"language": "fr", "next": "https://evil.example.org/"},
        form_path="/login",
    )
    assert response.headers["Location"] == "/"
