"""A person downloads all their data as JSON: every kind of record, nobody else's."""

from __future__ import annotations

import json

import sqlalchemy as sa

from lms.audit.models import AuditRecord
from tests.conftest import csrf_token, login
from tests.privacy.conftest import statements_of

SECTIONS = (
    "enrolments",
    "lesson_reads",
    "quiz_attempts",
    "qualifications",
    "practical_bookings",
    "practical_attendance",
    "practical_sign_offs",
    "waivers",
    "cohorts",
    "xapi_statements",
    "account_events",
)


def download(client):
    token = csrf_token(client, "/account")
    return client.post("/account/export", data={"csrf_token": token})


def test_learner_downloads_every_kind_of_record(client, records, db):
    alice = records["alice"]
    login(client, alice)
    response = download(client)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="personal-data-')
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data())
    assert data["profile"]["email"] == "alice.martin@example.org"
    assert data["profile"]["name"] == "Alice Martin"
    assert data["profile"]["id"] == alice.public_id
    for section in SECTIONS:
        assert data[section], section
    attempt = data["quiz_attempts"][0]
    assert attempt["id"] == records["alice_records"]["attempt"].public_id
    assert attempt["answers"][0]["response"] == f"answer of {alice.public_id}"
    assert data["qualifications"][0]["attempt"] == attempt["id"]
    assert data["practical_sign_offs"][0]["signed_by"] == records["trainer"].display_name
    assert data["cohorts"] == [
        {"name": "March intake", "added_at": data["cohorts"][0]["added_at"], "archived": False}
    ]
    stored = statements_of(db, alice)
    assert [s["statement"]["id"] for s in data["xapi_statements"]] == [s.uuid for s in stored]
    assert data["xapi_statements"][0]["sent_to"] == [
        {"lrs": "Acme LRS", "state": "pending", "delivered_at": None}
    ]
    assert {e["event"] for e in data["account_events"]} >= {
        "user.registered",
        "auth.login.succeeded",
    }


def test_export_holds_nothing_of_another_learner(client, records, db):
    login(client, records["alice"])
    text = download(client).get_data(as_text=True)
    bruno = records["bruno"]
    for value in (
        bruno.public_id,
        bruno.email,
        bruno.display_name,
        records["bruno_records"]["attempt"].public_id,
        records["bruno_records"]["attempt"].registration,
        records["bruno_records"]["booking"].registration,
        *(s.uuid for s in statements_of(db, bruno)),
    ):
        assert value not in text, value


def test_trainer_export_holds_no_learner_records(client, records, db):
    trainer = records["trainer"]
    login(client, trainer)
    data = json.loads(download(client).get_data())
    assert data["profile"]["email"] == trainer.email
    text = json.dumps(data)
    for learner in (records["alice"], records["bruno"]):
        assert learner.public_id not in text and learner.email not in text
    assert data["practical_sign_offs"] == [] and data["xapi_statements"] == []


def test_export_is_audited(client, records, db):
    alice = records["alice"]
    login(client, alice)
    download(client)
    record = db.session.scalar(
        sa.select(AuditRecord).where(AuditRecord.action == "privacy.data_exported")
    )
    assert (record.actor_id, record.target_id) == (alice.id, alice.public_id)


def test_export_needs_the_form_token(client, records):
    login(client, records["alice"])
    assert client.post("/account/export").status_code == 400


def test_account_page_offers_the_download(client, records):
    login(client, records["alice"])
    html = client.get("/account").get_data(as_text=True)
    assert 'action="/account/export"' in html
    assert "Download my data" in html


def test_export_query_count_does_not_grow_with_records(client, records, db, app):
    from lms.privacy import queries
    from tests.dashboard.conftest import QueryCounter

    alice = records["alice"]
    with QueryCounter(db.engine) as few:
        queries.personal_data(alice)
    from lms import xapi
    from tests.xapi.events import every_event

    for _ in range(5):
        for event in every_event(alice, records["trainer"]):
            xapi.record(event)
    db.session.commit()
    db.session.expire_all()
    with QueryCounter(db.engine) as many:
        queries.personal_data(alice)
    assert many.count == few.count
