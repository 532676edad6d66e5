"""The audit trail is append-only and hash-chained; tampering is detected."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms import audit
from lms.audit.models import GENESIS, AuditRecord
from tests.conftest import login


@pytest.fixture()
def trail(db, make_user):
    """A few records: a user's creation, a failed and a successful log-in."""
    user = make_user()
    audit.record("auth.login.failed", actor_label="someone@example.org")
    audit.record("auth.login.succeeded", actor=user, target_type="user", target_id=user.public_id)
    db.session.commit()
    return list(db.session.scalars(sa.select(AuditRecord).order_by(AuditRecord.id)))


def bypass_append_only(db):
    """What an attacker with database access would do first: drop the guard."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("DROP TRIGGER audit_record_append_only ON audit_record"))
    else:
        db.session.execute(sa.text("DROP TRIGGER audit_record_no_update"))
        db.session.execute(sa.text("DROP TRIGGER audit_record_no_delete"))


def test_records_chain_from_genesis_and_verify(trail):
    assert trail[0].prev_hash == GENESIS
    for before, after in zip(trail, trail[1:], strict=False):
        assert after.prev_hash == before.hash
    assert audit.verify() is None


def test_database_refuses_to_update_or_delete_records(trail, db):
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.session.begin_nested():
        db.session.execute(sa.text("UPDATE audit_record SET actor_label = 'x'"))
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), db.session.begin_nested():
        db.session.execute(sa.text("DELETE FROM audit_record"))


def test_altered_record_is_detected(trail, db):
    bypass_append_only(db)
    target = trail[1]
    db.session.execute(
        sa.text("UPDATE audit_record SET details = :d WHERE id = :id"),
        {"d": '{"reason":"nothing to see"}', "id": target.id},
    )
    broken = audit.verify()
    assert broken is not None
    assert broken.record_id == target.id
    assert "altered" in broken.reason


def test_removed_record_is_detected(trail, db):
    bypass_append_only(db)
    db.session.execute(sa.text("DELETE FROM audit_record WHERE id = :id"), {"id": trail[1].id})
    broken = audit.verify()
    assert broken is not None
    assert broken.record_id == trail[2].id
    assert "removed" in broken.reason


def test_verify_command_names_the_broken_record(app, trail, db):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["lms", "audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert f"intact: {len(trail)} records" in ok.output
    bypass_append_only(db)
    db.session.execute(
        sa.text("UPDATE audit_record SET actor_label = 'forged@example.org' WHERE id = :id"),
        {"id": trail[0].id},
    )
    broken = runner.invoke(args=["lms", "audit", "verify"])
    assert broken.exit_code == 1
    assert f"BROKEN at record {trail[0].id}" in broken.output


def test_a_fork_of_the_chain_is_impossible(trail, db):
    """Two records can never follow the same predecessor."""
    last = trail[-1]
    with pytest.raises(sa.exc.IntegrityError), db.session.begin_nested():
        db.session.add(
            AuditRecord(actor_label="x", action="forged", prev_hash=last.prev_hash, hash="f" * 64)
        )


def test_login_events_are_audited(client, make_user, db):
    user = make_user()
    login(client, user, "wrong password")
    login(client, user)
    rows = db.session.execute(
        sa.select(AuditRecord.action, AuditRecord.actor_label)
        .order_by(AuditRecord.id.desc())
        .limit(2)
    ).all()
    assert [tuple(row) for row in rows] == [
        ("auth.login.succeeded", user.public_id),
        ("auth.login.failed", user.public_id),
    ]


def test_trail_page_is_scoped_to_the_admins_organisation(client, make_client, make_user, make_org):
    acme, other = make_org("Acme"), make_org("Other")
    admin = make_user("admin", acme)
    stranger = make_user("learner", other, email="stranger@example.org")
    login(make_client(), stranger)
    login(client, admin)
    html = client.get("/audit/").get_data(as_text=True)
    assert admin.public_id in html and admin.display_name in html
    assert stranger.public_id not in html and stranger.display_name not in html
    html = client.get("/audit/?action=auth.login").get_data(as_text=True)
    assert "auth.login.succeeded" in html and "user.created" not in html
