"""Lock-out after repeated failed log-ins: a clear notice with the time to retry, the
same for unknown addresses, audited, and an e-mail to the account holder."""

from __future__ import annotations

import json
import re
import time

import sqlalchemy as sa

from lms.audit.models import AuditRecord
from tests.conftest import DEFAULT_PASSWORD, csrf_token

NOTICE = re.compile(r'<div class="message message-error" role="alert">.*?</div>', re.S)


#: The password guessed wrong in these tests.
WRONG = "Tr0ub4dor guess"


def attempt(client, email: str, password: str | None = None):
    password = password or WRONG
    token = csrf_token(client, "/login")
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}, buffered=True
    )


def notice(response) -> str:
    match = NOTICE.search(response.get_data(as_text=True))
    return match.group(0) if match else ""


def locks(db) -> list[AuditRecord]:
    return list(
        db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "auth.login.locked"))
    )


def test_fifth_failure_locks_and_says_until_when(client, make_user, db):
    user = make_user()
    for _ in range(4):
        response = attempt(client, user.email)
        assert response.status_code == 200 and notice(response) == ""
    fifth = attempt(client, user.email)
    text = notice(fifth)
    assert "Log-ins with this e-mail address are paused" in text
    assert re.search(
        r"locked until \d\d?:\d\d\W*(AM|PM)? \(UTC\), in about \d+ (seconds?|minute)\.", text
    )
    refused = attempt(client, user.email, DEFAULT_PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed log-ins with this e-mail address" in notice(refused)
    assert int(refused.headers["Retry-After"]) <= 61
    assert client.get("/account").status_code == 302  # the right password did not log in


def test_lock_is_audited_once(client, make_user, db):
    user = make_user()
    for _ in range(7):
        attempt(client, user.email)
    [record] = locks(db)
    assert record.actor_id == user.id
    assert json.loads(record.details)["address"] == "127.0.0.1"
    assert "until" in json.loads(record.details)


def test_unknown_address_gets_the_same_lock_notice(client, make_user, db):
    user = make_user()
    for _ in range(5):
        known = attempt(client, user.email)
        unknown = attempt(client, "nobody@example.org")
    digits = re.compile(r"\d+( seconds?| minutes?)?")
    assert notice(known) and digits.sub("#", notice(known)) == digits.sub("#", notice(unknown))
    known_again, unknown_again = attempt(client, user.email), attempt(client, "nobody@example.org")
    assert known_again.status_code == unknown_again.status_code == 429
    assert digits.sub("#", notice(known_again)) == digits.sub("#", notice(unknown_again))
    assert [r.actor_id for r in locks(db)] == [user.id, None]


def test_other_addresses_and_accounts_are_not_locked(client, make_client, make_user):
    user, colleague = make_user(), make_user()
    for _ in range(5):
        attempt(client, user.email)
    assert attempt(client, colleague.email, DEFAULT_PASSWORD).status_code == 302
    elsewhere = make_client()
    token = csrf_token(elsewhere, "/login")
    response = elsewhere.post(
        "/login",
        data={"email": user.email, "password": DEFAULT_PASSWORD, "csrf_token": token},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    assert response.status_code == 302


def test_account_holder_is_emailed_once(client, make_user, mailbox):
    user = make_user()
    for _ in range(7):
        attempt(client, user.email)
    [message] = mailbox.wait_for(1)
    assert message["To"] == user.email
    body = message.get_content()
    assert "Several wrong passwords were just entered for your account" in body
    assert "127.0.0.1" in body
    assert "http://lms.test/password/forgot" in body
    assert WRONG not in body


def test_unknown_address_sends_no_mail(client, make_user, mailbox):
    for _ in range(6):
        attempt(client, "nobody@example.org")
    time.sleep(0.1)
    assert mailbox.messages == []


def test_notices_are_limited_per_account(client, make_user, mailbox, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_FAILURE_LIMIT", "2 per 1 second")
    user = make_user()
    for _ in range(2):
        attempt(client, user.email)
    time.sleep(1.1)
    for _ in range(2):
        attempt(client, user.email)
    assert len(locks_after := mailbox.to(user.email)) == 1, locks_after


def test_lock_page_offers_a_reset_when_smtp_is_configured(client, make_user, mailbox):
    user = make_user()
    for _ in range(5):
        response = attempt(client, user.email)
    assert 'href="/password/forgot"' in notice(response)


def test_lock_page_says_to_ask_an_admin_without_smtp(client, make_user):
    user = make_user()
    for _ in range(5):
        response = attempt(client, user.email)
    assert "Ask an administrator of your organisation" in notice(response)
