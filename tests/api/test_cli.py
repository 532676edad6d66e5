"""``flask lms api token create|list|revoke``: tokens as configuration."""

from __future__ import annotations

import sqlalchemy as sa

from lms.api.models import ApiToken
from lms.audit.models import AuditRecord


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["lms", "api", "token", *args])


def test_create_list_use_and_revoke_a_token(app, db, client, make_org):
    org = make_org("Acme Pharma")
    created = _run(
        app,
        "create",
        "--organisation",
        org.slug,
        "--name",
        "Moodle",
        "--scope",
        "write",
        "--expires",
        "2999-01-31",
    )
    assert created.exit_code == 0, created.output + created.stderr
    plain = created.stdout.strip().splitlines()[-1]
    token = db.session.scalar(sa.select(ApiToken))
    assert plain.startswith(token.prefix + "_") and token.scope == "write"
    assert token.expires_at.isoformat() == "2999-01-31T00:00:00+00:00"
    assert token.created_by_id is None
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/modules", headers=headers).status_code == 200

    listed = _run(app, "list", "--organisation", org.slug)
    assert listed.exit_code == 0
    assert f"{token.prefix}\t{org.slug}\twrite\tactive\tMoodle" in listed.stdout
    assert plain not in listed.stdout

    revoked = _run(app, "revoke", token.prefix)
    assert revoked.exit_code == 0, revoked.output
    assert "revoked" in _run(app, "list").stdout
    assert client.get("/api/v1/modules", headers=headers).status_code == 401
    actions = db.session.scalars(
        sa.select(AuditRecord.action).where(AuditRecord.target_type == "api_token")
    ).all()
    assert actions == ["api.token.created", "api.token.revoked"]
    assert _run(app, "revoke", token.prefix).exit_code == 1


def test_the_commands_refuse_unknown_names(app, db):
    assert _run(app, "create", "--organisation", "nowhere", "--name", "x").exit_code == 1
    assert _run(app, "list", "--organisation", "nowhere").exit_code == 1
    assert _run(app, "revoke", "lms_000000000000").exit_code == 1
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0
