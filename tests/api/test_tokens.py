"""API tokens: shown once, stored as a hash, revocable, expiring, audited."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.api import services
from lms.api.models import ApiToken
from lms.audit.models import AuditRecord
from lms.db_types import utcnow


def _create(people, org="acme", by="admin", **kwargs):
    fields = {"name": "Moodle", "scope": "read", "expires_at": None, **kwargs}
    return services.create_token(
        organisation=people[org], by=people[by] if by else None, now=utcnow(), **fields
    )


def test_the_database_keeps_a_hash_and_the_prefix_not_the_token(db, people):
    issued = _create(people)
    db.session.commit()
    stored = db.session.get(ApiToken, issued.token.id)
    assert issued.plain.startswith(stored.prefix + "_")
    assert len(issued.plain) > 50
    assert stored.secret_hash == hashlib.sha256(issued.plain.encode()).hexdigest()
    row = db.session.execute(sa.select(ApiToken.__table__)).one()._asdict()
    assert issued.plain not in [str(value) for value in row.values()]


def test_two_tokens_never_share_a_value(db, people):
    first, second = _create(people), _create(people)
    assert first.plain != second.plain and first.token.prefix != second.token.prefix


def test_authenticate_accepts_only_the_exact_usable_token(db, people):
    issued = _create(people)
    db.session.commit()
    now = utcnow()
    assert services.authenticate(issued.plain, now) == issued.token
    assert services.authenticate(issued.plain + "x", now) is None
    assert services.authenticate(issued.plain[:-1], now) is None
    assert services.authenticate(issued.token.prefix, now) is None
    assert services.authenticate("", now) is None
    services.revoke_token(issued.token, by=people["admin"], now=now)
    assert services.authenticate(issued.plain, now) is None


def test_a_token_expires_at_its_moment(db, people):
    moment = utcnow() + timedelta(days=2)
    issued = _create(people, expires_at=moment)
    assert services.authenticate(issued.plain, moment - timedelta(seconds=1)) is not None
    assert services.authenticate(issued.plain, moment) is None


def test_creation_and_revocation_are_audited_without_the_secret(db, people):
    issued = _create(people, scope="write")
    services.revoke_token(issued.token, by=people["centre_admin"], now=utcnow())
    records = db.session.scalars(
        sa.select(AuditRecord).where(AuditRecord.target_type == "api_token")
    ).all()
    assert [record.action for record in records] == ["api.token.created", "api.token.revoked"]
    assert records[0].actor_id == people["admin"].id
    assert records[1].actor_id == people["centre_admin"].id
    assert all(record.organisation_id == people["acme"].id for record in records)
    assert all(record.target_id == issued.token.prefix for record in records)
    assert all(issued.plain not in record.details for record in records)
    assert '"scope":"write"' in records[0].details


@pytest.mark.parametrize("by", ["other_admin", "trainer", "learner"])
def test_only_the_organisations_admins_and_the_centre_admin_manage_its_tokens(db, people, by):
    with pytest.raises(PermissionError):
        _create(people, by=by)
    issued = _create(people, by="centre_admin")
    with pytest.raises(PermissionError):
        services.revoke_token(issued.token, by=people[by], now=utcnow())


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"scope": "admin"}, "scope"),
        ({"expires_at": utcnow() - timedelta(minutes=1)}, "expires_at"),
    ],
)
def test_invalid_tokens_are_refused(db, people, fields, field):
    with pytest.raises(services.TokenError) as refused:
        _create(people, **fields)
    assert refused.value.field == field


def test_revoking_twice_is_refused(db, people):
    issued = _create(people)
    services.revoke_token(issued.token, by=people["admin"], now=utcnow())
    with pytest.raises(services.TokenError):
        services.revoke_token(issued.token, by=people["admin"], now=utcnow())


def test_last_use_is_written_at_most_once_a_minute(db, people):
    issued = _create(people)
    db.session.commit()
    now = utcnow()
    assert services.touch(issued.token, now) is True
    assert services.touch(issued.token, now + timedelta(seconds=30)) is False
    assert services.touch(issued.token, now + timedelta(seconds=61)) is True
    db.session.commit()
    stored = db.session.scalar(
        sa.select(ApiToken.last_used_at).where(ApiToken.id == issued.token.id)
    )
    assert stored == now + timedelta(seconds=61)


def test_a_centre_token_sees_everything_and_others_do_not(db, people):
    assert _create(people, org="centre", by="centre_admin").token.sees_everything
    assert not _create(people).token.sees_everything


def test_write_implies_read(db, people):
    reader = _create(people).token
    writer = _create(people, scope="write").token
    assert reader.allows("read") and not reader.allows("write")
    assert writer.allows("read") and writer.allows("write")
