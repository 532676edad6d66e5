"""Log-in, log-out, remember-me, rate limiting, CSRF, password change."""

from __future__ import annotations

import sqlalchemy as sa

from lms.audit.models import AuditRecord
from tests.conftest import DEFAULT_PASSWORD, csrf_token, login, post_form


def actions(db):
    return list(db.session.scalars(sa.select(AuditRecord.action).order_by(AuditRecord.id)))


def test_login_with_email_in_any_case_and_logout(client, make_user, db):
    user = make_user(email="Ana.Lopez@Example.org")
    response = login(client, "  ANA.LOPEZ@example.ORG ")
    assert response.status_code == 302
    assert "Welcome, " in client.get("/").get_data(as_text=True)
    response = post_form(client, "/logout", {}, form_path="/")
    assert response.status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")
    assert actions(db)[-2:] == ["auth.login.succeeded", "auth.logout"]
    assert user.email == "ana.lopez@example.org"


def test_wrong_password_is_refused_with_a_message_and_audited(client, make_user, db):
    make_user(email="bob@example.org")
    response = login(client, "bob@example.org", "wrong password")
    assert response.status_code == 200
    assert "The e-mail address or password is not correct." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert actions(db)[-1] == "auth.login.failed"


def test_unknown_email_gets_the_same_message(client):
    response = login(client, "nobody@example.org", "whatever password")
    assert "The e-mail address or password is not correct." in response.get_data(as_text=True)


def test_deactivated_user_cannot_log_in(client, make_user, db):
    user = make_user()
    user.active = False
    db.session.commit()
    response = login(client, user)
    assert response.status_code == 200
    assert client.get("/").status_code == 302


def test_sixth_wrong_password_within_a_minute_is_rate_limited(client, make_user):
    user = make_user()
    for _ in range(5):
        assert login(client, user, "wrong password").status_code == 200
    response = login(client, user, DEFAULT_PASSWORD)
    assert response.status_code == 429
    assert "Too many" in response.get_data(as_text=True)
    assert "Retry-After" in response.headers


def test_successful_logins_do_not_use_up_the_failure_allowance(client, make_user):
    user = make_user()
    for _ in range(6):
        assert login(client, user).status_code == 302
        post_form(client, "/logout", {}, form_path="/")


def test_rate_limit_of_one_account_does_not_block_another(client, make_user):
    alice, bob = make_user(), make_user()
    for _ in range(6):
        login(client, alice, "wrong password")
    assert login(client, bob).status_code == 302


def test_post_without_csrf_token_is_refused(client, make_user):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_redirects_to_local_next_only(client, make_user):
    user = make_user()
    token = csrf_token(client)
    good = client.post(
        "/login?next=/account",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
    )
    assert good.headers["Location"] == "/account"
    post_form(client, "/logout", {}, form_path="/")
    for evil in ("https://evil.example.org/", "//evil.example.org", "/\\evil.example.org"):
        token = csrf_token(client)
        response = client.post(
            f"/login?next={evil}",
            data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
        )
        assert response.headers["Location"] == "/", evil
        post_form(client, "/logout", {}, form_path="/")


def test_remember_me_sets_a_persistent_cookie(client, make_user):
    user = make_user()
    token = csrf_token(client)
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": DEFAULT_PASSWORD,
            "remember": "y",
            "csrf_token": token,
        },
    )
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "Expires=" in remember[0]


def test_password_change_logs_out_other_sessions(client, make_client, make_user, db):
    user = make_user()
    other_device = make_client()
    login(client, user)
    login(other_device, user)
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert other_device.get("/account").status_code == 302
    post_form(client, "/logout", {}, form_path="/")
    assert login(client, user, "a new long password").status_code == 302


def test_password_change_with_wrong_current_password_changes_nothing(client, make_user, db):
    user = make_user()
    login(client, user)
    old_hash = user.password_hash
    response = post_form(
        client,
        "/account/password",
        {
            "current_password": "not it at all",
            "new_password": "a new long password",
            "confirm": "a new long password",
        },
    )
    assert response.status_code == 200
    assert "The current password is not correct." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_short_or_mismatched_new_password_is_refused(client, make_user):
    user = make_user()
    login(client, user)
    short = post_form(
        client,
        "/account/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": "short", "confirm": "short"},
    ).get_data(as_text=True)
    assert "Use at least 10 characters." in short
    mismatch = post_form(
        client,
        "/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": "long enough one",
            "confirm": "long enough two",
        },
    ).get_data(as_text=True)
    assert "The two passwords differ." in mismatch


def test_profile_update_saves_name_and_language(client, make_user, db):
    user = make_user()
    login(client, user)
    response = post_form(client, "/account", {"display_name": "Chloé Martin", "language": "fr"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert (user.display_name, user.language) == ("Chloé Martin", "fr")
    assert "Mon compte" in client.get("/account").get_data(as_text=True)
