"""Password reset by an e-mailed, single-use, expiring link (a real SMTP server), or by
asking an admin when this service sends no e-mail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.auth import resets
from lms.auth.models import PasswordResetLink
from lms.db_types import utcnow
from tests.auth.conftest import reset_link
from tests.conftest import DEFAULT_PASSWORD, csrf_token, login, post_form

NEW_PASSWORD = "a brand new passphrase"


def ask(client, email: str):
    """Submit "Forgot your password?" as a browser would; any e-mail leaves on return."""
    token = csrf_token(client, "/password/forgot")
    return client.post(
        "/password/forgot", data={"email": email, "csrf_token": token}, buffered=True
    )


def choose(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    return post_form(client, path, {"new_password": password, "confirm": confirm or password})


def page_text(response) -> str:
    """The page without its CSRF tokens (they differ between any two pages)."""
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", response.get_data(True))


def actions(db) -> list[str]:
    return list(db.session.scalars(sa.select(AuditRecord.action).order_by(AuditRecord.id)))


def test_login_page_offers_the_forgotten_password_page(client):
    html = client.get("/login").get_data(as_text=True)
    assert 'href="/password/forgot"' in html
    assert "Forgot your password?" in html


def test_without_smtp_the_page_says_to_ask_an_admin(client, make_user):
    user = make_user()
    page = client.get("/password/forgot").get_data(as_text=True)
    assert "Ask an administrator of your organisation" in page
    assert 'name="email"' not in page
    response = post_form(client, "/password/forgot", {"email": user.email}, form_path="/login")
    assert "Ask an administrator of your organisation" in response.get_data(as_text=True)


def test_emailed_link_sets_a_new_password_once(client, make_user, mailbox, db):
    user = make_user(email="nadia@example.org")
    response = ask(client, "Nadia@Example.org")
    assert "If an account uses this e-mail address, we have sent it a link" in page_text(response)
    [message] = mailbox.wait_for(1)
    assert message["To"] == "nadia@example.org"
    assert message["From"] == "lms@example.org"
    path = reset_link(message)
    assert "1 hour" in message.get_content()

    assert 'name="new_password"' in client.get(path).get_data(as_text=True)
    response = choose(client, path)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert login(client, user, DEFAULT_PASSWORD).status_code == 200
    assert login(client, user, NEW_PASSWORD).status_code == 302
    assert [a for a in actions(db) if "reset" in a] == [
        "auth.password_reset.requested",
        "user.password_reset",
    ]

    again = client.get(path)
    assert again.status_code == 410
    assert "not valid any more" in again.get_data(as_text=True)


def test_a_used_link_cannot_set_a_second_password(client, make_client, make_user, mailbox, db):
    user = make_user()
    ask(client, user.email)
    path = reset_link(mailbox.wait_for(1)[0])
    token = csrf_token(client, path)
    other_tab = make_client()
    other_token = csrf_token(other_tab, path)
    first = client.post(
        path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token}
    )
    second = other_tab.post(
        path,
        data={
            "new_password": "the attacker's choice",
            "confirm": "the attacker's choice",
            "csrf_token": other_token,
        },
    )
    assert first.status_code == 302
    assert second.status_code == 410
    assert login(client, user, NEW_PASSWORD).status_code == 302


def test_service_refuses_a_second_use_of_a_link(make_user, db):
    user = make_user()
    admin = make_user("admin", user.organisation)
    token = resets.create_link(user, by=admin).url.rsplit("/", 1)[1]
    resets.reset_password(token, NEW_PASSWORD)
    with pytest.raises(resets.ResetRefused):
        resets.reset_password(token, "second password here")


def test_unknown_address_gets_the_same_answer_and_no_mail(client, make_user, mailbox):
    make_user(email="known@example.org")
    known = page_text(ask(client, "known@example.org"))
    unknown = page_text(ask(client, "nobody@example.org"))
    assert known == unknown
    mailbox.wait_for(1)
    assert [m["To"] for m in mailbox.messages] == ["known@example.org"]


def test_deactivated_account_gets_no_link(client, make_user, mailbox, db):
    user = make_user()
    user.active = False
    db.session.commit()
    response = ask(client, user.email)
    assert "If an account uses this e-mail address" in response.get_data(as_text=True)
    assert mailbox.messages == []


def test_only_a_hash_of_the_link_is_stored(client, make_user, mailbox, db):
    user = make_user()
    ask(client, user.email)
    token = reset_link(mailbox.wait_for(1)[0]).rsplit("/", 1)[1]
    stored = db.session.scalar(
        sa.select(PasswordResetLink).where(PasswordResetLink.user_id == user.id)
    )
    assert stored.token_hash != token and len(stored.token_hash) == 64
    assert token not in {str(v) for v in stored.__dict__.values()}
    trail = " ".join(db.session.scalars(sa.select(AuditRecord.details)))
    assert token not in trail


def test_expired_link_is_refused(client, make_user, mailbox, db):
    user = make_user()
    ask(client, user.email)
    path = reset_link(mailbox.wait_for(1)[0])
    link = db.session.scalar(
        sa.select(PasswordResetLink).where(PasswordResetLink.user_id == user.id)
    )
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.get(path).status_code == 410
    token = csrf_token(client, "/login")
    response = client.post(
        path, data={"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 410
    assert login(client, user, NEW_PASSWORD).status_code == 200


def test_link_lifetime_comes_from_the_configuration(
    client, make_user, mailbox, monkeypatch, app, db
):
    monkeypatch.setitem(app.config, "RESET_LINK_SECONDS", 600)
    user = make_user()
    before = utcnow()
    ask(client, user.email)
    assert "10 minutes" in mailbox.wait_for(1)[0].get_content()
    link = db.session.scalar(
        sa.select(PasswordResetLink).where(PasswordResetLink.user_id == user.id)
    )
    assert timedelta(seconds=599) <= link.expires_at - before <= timedelta(seconds=601)


def test_new_password_follows_the_password_rules(client, make_user, mailbox):
    user = make_user()
    ask(client, user.email)
    path = reset_link(mailbox.wait_for(1)[0])
    short = choose(client, path, "short").get_data(as_text=True)
    assert "Use at least 10 characters." in short
    differ = choose(client, path, "long enough one", "long enough two").get_data(as_text=True)
    assert "The two passwords differ." in differ
    assert login(client, user).status_code == 302  # unchanged


def test_reset_logs_out_every_session(client, make_client, make_user, mailbox):
    user = make_user()
    laptop, phone = make_client(), make_client()
    login(laptop, user)
    login(phone, user)
    ask(client, user.email)
    choose(client, reset_link(mailbox.wait_for(1)[0]))
    assert laptop.get("/account").status_code == 302
    assert phone.get("/account").status_code == 302


def test_password_change_ends_open_links(client, make_user, mailbox):
    user = make_user()
    ask(client, user.email)
    path = reset_link(mailbox.wait_for(1)[0])
    login(client, user)
    post_form(
        client,
        "/account/password",
        {
            "current_password": DEFAULT_PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert client.get(path).status_code == 410


def test_link_points_at_the_public_address_whatever_the_host_header(client, make_user, mailbox):
    user = make_user()
    evil = "http://evil.example.org"
    html = client.get("/password/forgot", base_url=evil).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    response = client.post(
        "/password/forgot",
        data={"email": user.email, "csrf_token": token},
        base_url=evil,
        buffered=True,
    )
    assert response.status_code == 200
    content = mailbox.wait_for(1)[0].get_content()
    assert "evil.example.org" not in content
    assert "http://lms.test/password/reset/" in content


def test_requests_are_rate_limited_per_address(client, make_user, mailbox):
    for _ in range(5):
        assert ask(client, "someone@example.org").status_code == 200
    response = ask(client, "someone@example.org")
    assert response.status_code == 429
    assert "Too many requests" in response.get_data(as_text=True)


def test_one_account_gets_at_most_three_reset_mails_an_hour(
    client, make_user, mailbox, app, monkeypatch
):
    monkeypatch.setitem(app.config, "RESET_LINK_REQUEST_LIMIT", "100 per minute")
    user = make_user()
    answers = {page_text(ask(client, user.email)) for _ in range(5)}
    assert len(answers) == 1
    assert len(mailbox.to(user.email)) == 3


def test_mail_in_the_person_s_language(client, make_user, mailbox):
    user = make_user(language="fr")
    ask(client, user.email)
    message = mailbox.wait_for(1)[0]
    assert message["Subject"] == "[LMS] Choisissez un nouveau mot de passe"
    assert "Bonjour" in message.get_content()


def test_smtp_failure_is_logged_without_the_link(client, make_user, app, monkeypatch, caplog):
    from tests.auth.conftest import free_port

    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", free_port())  # nobody listens
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 2.0)
    user = make_user()
    response = ask(client, user.email)
    assert response.status_code == 200
    assert "could not send the password reset e-mail" in caplog.text
    assert "/password/reset/" not in caplog.text
