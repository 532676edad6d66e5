"""A password change ends every other session, remember-me cookies included; the session
that changed it stays logged in."""

from __future__ import annotations

from tests.conftest import DEFAULT_PASSWORD, csrf_token, post_form

NEW_PASSWORD = "a new long password"


def remembered_login(client, user):
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        data={
            "email": user.email,
            "password": DEFAULT_PASSWORD,
            "remember": "y",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    return client.get_cookie("remember_token").value


def change_password(client):
    return post_form(
        client,
        "/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )


def test_remember_me_cookie_of_another_device_stops_working(client, make_client, make_user):
    user = make_user()
    laptop = make_client()
    cookie = remembered_login(laptop, user)
    # The browser was closed: only the remember-me cookie is left.
    tomorrow = make_client()
    tomorrow.set_cookie("remember_token", cookie)
    assert tomorrow.get("/account").status_code == 200
    remembered_login(client, user)
    assert change_password(client).status_code == 302
    stale = make_client()
    stale.set_cookie("remember_token", cookie)
    assert stale.get("/account").status_code == 302


def test_changing_device_stays_logged_in_with_a_fresh_remember_me_cookie(
    client, make_client, make_user
):
    user = make_user()
    old = remembered_login(client, user)
    assert change_password(client).status_code == 302
    assert client.get("/account").status_code == 200
    fresh = client.get_cookie("remember_token").value
    assert fresh != old
    reopened = make_client()
    reopened.set_cookie("remember_token", fresh)
    assert reopened.get("/account").status_code == 200
