"""An admin gives a person a one-time link to choose a new password (shown once, or
e-mailed when SMTP is configured); audited; only for people they administer."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.auth.models import PasswordResetLink
from tests.auth.conftest import reset_link
from tests.conftest import as_role, csrf_token, login, post_form

NEW_PASSWORD = "chosen by the learner"
LINK = re.compile(r"http://lms\.test(/password/reset/[A-Za-z0-9_\-]+)")


@pytest.fixture()
def world(two_organisations):
    return two_organisations


def make_link(client, learner):
    token = csrf_token(client, f"/people/{learner.public_id}")
    return client.post(f"/people/{learner.public_id}/reset-link", data={"csrf_token": token})


def test_admin_link_lets_the_learner_choose_a_password(client, make_client, world, db):
    learner, admin = world["people"]["learner"], world["people"]["admin"]
    as_role(client, world, "admin")
    page = make_link(client, learner)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "It is shown only now, works once" in html
    path = LINK.search(html).group(1)

    someone = make_client()
    assert (
        post_form(someone, path, {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        .headers["Location"]
        .endswith("/login")
    )
    assert login(someone, learner, NEW_PASSWORD).status_code == 302
    assert make_client().get(path).status_code == 410

    record = db.session.scalar(
        sa.select(AuditRecord).where(AuditRecord.action == "user.password_reset_link.created")
    )
    assert (record.actor_id, record.target_id) == (admin.id, learner.public_id)
    assert json.loads(record.details)["emailed"] is False
    assert path.rsplit("/", 1)[1] not in record.details


def test_admin_page_offers_the_link_buttons(client, world):
    learner = world["people"]["learner"]
    as_role(client, world, "admin")
    html = client.get(f"/people/{learner.public_id}").get_data(as_text=True)
    assert f'action="/people/{learner.public_id}/reset-link"' in html
    assert "reset-email" not in html  # no SMTP configured


def test_each_link_is_shown_once_and_differs(client, world, db):
    learner = world["people"]["learner"]
    as_role(client, world, "admin")
    first = LINK.search(make_link(client, learner).get_data(as_text=True)).group(1)
    second = LINK.search(make_link(client, learner).get_data(as_text=True)).group(1)
    assert first != second
    html = client.get(f"/people/{learner.public_id}").get_data(as_text=True)
    assert first not in html and second not in html
    count = db.session.scalar(
        sa.select(sa.func.count()).where(PasswordResetLink.user_id == learner.id)
    )
    assert count == 2


def test_admin_can_email_the_link(client, world, mailbox, db):
    learner = world["people"]["learner"]
    as_role(client, world, "admin")
    html = client.get(f"/people/{learner.public_id}").get_data(as_text=True)
    assert f'action="/people/{learner.public_id}/reset-email"' in html
    token = csrf_token(client, f"/people/{learner.public_id}")
    response = client.post(
        f"/people/{learner.public_id}/reset-email", data={"csrf_token": token}, buffered=True
    )
    assert response.status_code == 302
    [message] = mailbox.wait_for(1)
    assert message["To"] == learner.email
    path = reset_link(message)
    assert "A link to choose a new password is on its way" in client.get(
        f"/people/{learner.public_id}"
    ).get_data(as_text=True)
    record = db.session.scalar(
        sa.select(AuditRecord).where(AuditRecord.action == "user.password_reset_link.created")
    )
    assert json.loads(record.details)["emailed"] is True
    assert client.get(path).status_code == 200


def test_emailing_without_smtp_is_refused_with_a_reason(client, world, db):
    learner = world["people"]["learner"]
    as_role(client, world, "admin")
    token = csrf_token(client, f"/people/{learner.public_id}")
    client.post(f"/people/{learner.public_id}/reset-email", data={"csrf_token": token})
    html = client.get(f"/people/{learner.public_id}").get_data(as_text=True)
    assert "This service has no e-mail server configured." in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetLink)) == 0


def test_no_link_for_a_deactivated_account(client, world, db):
    learner = world["people"]["learner"]
    learner.active = False
    db.session.commit()
    as_role(client, world, "admin")
    response = make_link(client, learner)
    assert response.status_code == 302
    assert "reactivate it before resetting its password" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetLink)) == 0


def test_other_organisation_admin_gets_no_link(client, world, db):
    learner = world["people"]["learner"]
    as_role(client, world, "other_admin")
    token = csrf_token(client, "/")
    response = client.post(f"/people/{learner.public_id}/reset-link", data={"csrf_token": token})
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetLink)) == 0


def test_link_without_csrf_token_is_refused(client, world, db):
    learner = world["people"]["learner"]
    as_role(client, world, "admin")
    response = client.post(f"/people/{learner.public_id}/reset-link")
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PasswordResetLink)) == 0
