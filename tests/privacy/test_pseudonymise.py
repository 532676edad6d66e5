"""An admin pseudonymises a former learner: name and e-mail erased, account closed,
training records and audit trail kept under the opaque id, statements handled."""

from __future__ import annotations

import json

import sqlalchemy as sa

from lms import audit
from lms.audit.models import AuditRecord
from lms.auth import services as accounts
from lms.auth.models import User
from lms.practicals.models import Attendance, Booking, SignOff, Waiver
from lms.privacy import statements as privacy_statements
from lms.progress.models import Qualification
from lms.quiz.models import Attempt
from lms.xapi.feed import describe
from lms.xapi.models import Statement, StatementDelivery
from tests.conftest import DEFAULT_PASSWORD, csrf_token, login
from tests.privacy.conftest import statements_of


def pseudonymise(client, learner, *, password=DEFAULT_PASSWORD, understood=True):
    path = f"/people/{learner.public_id}/pseudonymise"
    data = {"password": password, "csrf_token": csrf_token(client, path)}
    if understood:
        data["understood"] = "y"
    return client.post(path, data=data)


def counts(db, user) -> dict[str, int]:
    def count(model, column):
        return db.session.scalar(sa.select(sa.func.count()).where(column == user.id))

    return {
        "attempts": count(Attempt, Attempt.user_id),
        "qualifications": count(Qualification, Qualification.user_id),
        "attendance": count(Attendance, Attendance.learner_id),
        "sign_offs": count(SignOff, SignOff.learner_id),
        "waivers": count(Waiver, Waiver.learner_id),
        "statements": count(Statement, Statement.user_id),
    }


def test_confirmation_page_says_what_happens_and_that_it_is_irreversible(client, records):
    alice = records["alice"]
    login(client, records["admin"])
    html = client.get(f"/people/{alice.public_id}/pseudonymise").get_data(as_text=True)
    assert "This cannot be undone." in html
    assert "alice.martin@example.org" in html
    assert f"Former learner {alice.public_id[:8]}" in html
    assert "1 upcoming practical booking is cancelled" in html
    assert 'name="password"' in html and 'name="understood"' in html


def test_admin_pseudonymises_and_records_stay(client, make_client, records, db):
    alice, bruno = records["alice"], records["bruno"]
    alice_device = make_client()
    login(alice_device, alice)
    before = counts(db, alice)
    login(client, records["admin"])
    response = pseudonymise(client, alice)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/people/{alice.public_id}")

    db.session.expire_all()
    alice = db.session.get(User, alice.id)
    assert alice.display_name == f"Former learner {alice.public_id[:8]}"
    assert alice.email == f"{alice.public_id}@pseudonymised.invalid"
    assert not alice.active and alice.is_pseudonymised
    assert alice_device.get("/account").status_code == 302
    assert login(make_client(), "alice.martin@example.org").status_code == 200
    assert login(make_client(), alice.email, DEFAULT_PASSWORD).status_code == 200

    after = counts(db, alice)
    assert after.pop("statements") > before.pop("statements")  # voiding ones added
    assert after == before
    assert db.session.get(User, bruno.id).display_name == "Bruno Costa"
    page = client.get(f"/people/{alice.public_id}").get_data(as_text=True)
    assert "is pseudonymised" in page
    assert "was pseudonymised on" in page
    assert 'name="email"' not in page


def test_audit_names_the_learner_by_id_only_and_the_chain_holds(client, records, db):
    alice = records["alice"]
    login(client, records["admin"])
    before = db.session.scalar(sa.select(sa.func.max(AuditRecord.id)))
    pseudonymise(client, alice)
    written = db.session.execute(
        sa.select(AuditRecord.__table__).where(AuditRecord.id > before)
    ).all()
    assert {row.action for row in written} >= {
        "user.pseudonymised",
        "practical.booking.cancelled",
    }
    everything = " ".join(str(value) for row in written for value in row).lower()
    assert "alice" not in everything and "martin" not in everything
    record = db.session.scalar(
        sa.select(AuditRecord).where(AuditRecord.action == "user.pseudonymised")
    )
    assert (record.actor_id, record.target_id) == (records["admin"].id, alice.public_id)
    row = " ".join(
        str(v)
        for v in db.session.execute(
            sa.select(AuditRecord.__table__).where(AuditRecord.id == record.id)
        ).one()
    )
    assert "alice" not in row.lower() and "martin" not in row.lower()
    details = json.loads(record.details)
    assert details["statements_voided"] > 0 and details["bookings_cancelled"] == 1
    assert audit.verify() is None


def test_no_stored_statement_keeps_the_email(client, records, db):
    alice = records["alice"]
    assert any("alice.martin@example.org" in s.body for s in statements_of(db, alice))
    login(client, records["admin"])
    pseudonymise(client, alice)
    bodies = [s.body for s in statements_of(db, alice)]
    assert not any("alice.martin@example.org" in body for body in bodies)
    for body in bodies:
        actor = json.loads(body)["actor"]
        assert "mbox" not in actor
    kept = [json.loads(b) for b in bodies if json.loads(b)["verb"]["id"].endswith("/passed")]
    assert kept[0]["actor"]["account"] == {"homePage": "http://lms.test", "name": alice.public_id}
    assert any("bruno.costa@example.org" in s.body for s in statements_of(db, records["bruno"]))


def test_voiding_statements_for_what_need_not_stay_only(client, records, db):
    alice = records["alice"]
    originals = {s.uuid: s.kind for s in statements_of(db, alice)}
    login(client, records["admin"])
    pseudonymise(client, alice)
    stored = statements_of(db, alice)
    assert set(originals) <= {s.uuid for s in stored}
    voiding = [s for s in stored if s.kind == "statement.voided"]
    voided = {s.object_id for s in voiding}
    # The cancellation of the upcoming booking, written on the way, is voided too.
    cancelled = [s.uuid for s in stored if s.uuid not in originals and s.kind != "statement.voided"]
    assert [s.kind for s in stored if s.uuid in cancelled] == ["practical.cancelled"]
    expected = {
        uuid for uuid, kind in originals.items() if kind not in privacy_statements.RETAINED_KINDS
    }
    assert voided == expected | set(cancelled)
    originals.update(dict.fromkeys(cancelled, "practical.cancelled"))
    assert {originals[u] for u in voided} >= {
        "module.launched",
        "lesson.experienced",
        "question.answered",
        "practical.registered",
    }
    assert not {originals[u] for u in voided} & {
        "attempt.passed",
        "module.completed",
        "practical.passed",
        "prerequisite.waived",
    }
    body = json.loads(voiding[0].body)
    assert body["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
    assert body["object"] == {"objectType": "StatementRef", "id": voiding[0].object_id}
    assert body["actor"]["account"]["name"] == records["admin"].public_id
    assert "context" not in body
    deliveries = db.session.scalars(
        sa.select(StatementDelivery).where(StatementDelivery.statement_id == voiding[0].id)
    ).all()
    assert [(d.endpoint_id, d.state) for d in deliveries] == [(records["endpoint"].id, "pending")]


def test_delivered_and_parked_deliveries(client, records, db):
    alice = records["alice"]
    stored = statements_of(db, alice)
    lesson = next(s for s in stored if s.kind == "lesson.experienced")
    launched = next(s for s in stored if s.kind == "module.launched")
    passed = next(s for s in stored if s.kind == "attempt.passed")
    lesson.deliveries[0].state = "delivered"
    passed.deliveries[0].state = "delivered"
    launched.deliveries[0].state = "parked"
    db.session.commit()
    login(client, records["admin"])
    html = client.get(f"/people/{alice.public_id}/pseudonymise").get_data(as_text=True)
    assert "Acme LRS: 2 statements" in html
    pseudonymise(client, alice)
    assert "Acme LRS (2)" in client.get(f"/people/{alice.public_id}").get_data(as_text=True)
    assert (
        db.session.scalars(
            sa.select(StatementDelivery).where(StatementDelivery.statement_id == launched.id)
        ).all()
        == []
    )
    voiding = {s.object_id: s for s in statements_of(db, alice) if s.kind == "statement.voided"}
    assert [d.state for d in voiding[lesson.uuid].deliveries] == ["pending"]
    assert voiding[launched.uuid].deliveries == []
    assert passed.uuid not in voiding


def test_upcoming_booking_is_cancelled_and_the_seat_freed(client, records, db):
    alice = records["alice"]
    booking = records["alice_records"]["booking"]
    login(client, records["admin"])
    pseudonymise(client, alice)
    db.session.refresh(booking)
    assert booking.state == "cancelled"
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                Booking.learner_id == records["bruno"].id, Booking.state == "booked"
            )
        )
        == 1
    )


def test_wrong_password_changes_nothing_and_is_audited(client, records, db):
    alice = records["alice"]
    login(client, records["admin"])
    response = pseudonymise(client, alice, password="not my password")
    assert response.status_code == 200
    assert "The password is not right: nothing was signed." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, alice.id).email == "alice.martin@example.org"
    refused = db.session.scalar(
        sa.select(AuditRecord).where(AuditRecord.action == "signature.refused")
    )
    assert json.loads(refused.details)["action"] == "user.pseudonymise"
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(AuditRecord.action == "user.pseudonymised")
        )
        == 0
    )


def test_confirmation_box_is_required(client, records, db):
    alice = records["alice"]
    login(client, records["admin"])
    response = pseudonymise(client, alice, understood=False)
    assert "Tick this box to confirm." in response.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(User, alice.id).is_pseudonymised


def test_pseudonymised_account_cannot_be_reopened_or_edited(client, records, db):
    alice = records["alice"]
    login(client, records["admin"])
    pseudonymise(client, alice)
    token = csrf_token(client, "/")
    client.post(f"/people/{alice.public_id}/reactivate", data={"csrf_token": token})
    client.post(f"/people/{alice.public_id}/reset-link", data={"csrf_token": token})
    client.post(
        f"/people/{alice.public_id}",
        data={
            "csrf_token": token,
            "email": "alice.martin@example.org",
            "display_name": "Alice Martin",
            "role": "learner",
            "organisation": records["acme"].slug,
            "learner_category": "worker",
            "sector": "",
            "language": "",
        },
    )
    db.session.expire_all()
    alice = db.session.get(User, alice.id)
    assert not alice.active and alice.display_name.startswith("Former learner")
    again = client.get(f"/people/{alice.public_id}/pseudonymise")
    assert again.status_code == 302


def test_only_learners_can_be_pseudonymised(client, records):
    login(client, records["admin"])
    trainer = records["trainer"]
    assert client.get(f"/people/{trainer.public_id}/pseudonymise").status_code == 404
    assert pseudonymise(client, trainer).status_code == 404


def test_other_organisation_admin_changes_nothing(client, records, make_org, make_user, db):
    stranger = make_user("admin", make_org("Other Chemicals"))
    alice = records["alice"]
    login(client, stranger)
    token = csrf_token(client, "/")
    response = client.post(
        f"/people/{alice.public_id}/pseudonymise",
        data={"csrf_token": token, "password": DEFAULT_PASSWORD, "understood": "y"},
    )
    assert response.status_code == 404
    db.session.expire_all()
    assert not db.session.get(User, alice.id).is_pseudonymised


def test_centre_admin_may_pseudonymise(client, records, make_user, centre, db):
    login(client, make_user("admin", centre))
    assert pseudonymise(client, records["alice"]).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, records["alice"].id).is_pseudonymised


def test_the_activity_feed_says_in_words_that_an_event_was_withdrawn(app, client, records, db):
    login(client, records["admin"])
    pseudonymise(client, records["alice"])
    voiding = [s for s in statements_of(db, records["alice"]) if s.kind == "statement.voided"]
    with app.test_request_context("/"):
        text = describe(voiding[0]).text
    assert text == "An earlier learning event was withdrawn from the record stores"


def test_no_audit_record_keeps_the_former_name_or_email(client, make_client, records, db):
    alice, admin = records["alice"], records["admin"]
    login(make_client(), alice, "not her password")
    login(make_client(), alice)
    accounts.update_profile(alice, display_name="Alice Martin-Roux", language=None)
    accounts.update_user(alice, {"email": "alice.roux@example.org"}, by=admin)
    db.session.commit()
    login(client, admin)
    pseudonymise(client, alice)
    rows = db.session.execute(sa.select(AuditRecord.actor_label, AuditRecord.details)).all()
    text = " ".join(f"{label} {details}" for label, details in rows).lower()
    for former in ("alice.martin@example.org", "alice.roux@example.org", "alice martin"):
        assert former not in text
    # The trail still says who acted, under the opaque id, now as a former learner.
    db.session.refresh(alice)
    html = client.get("/audit/?action=auth.login").get_data(as_text=True)
    assert alice.public_id in html and alice.display_name.startswith("Former learner")
    assert alice.display_name in html
