"""Our signing keys: the JWKS, rotation with a grace period, the CLI."""

from __future__ import annotations

import re
from datetime import timedelta

import jwt
import sqlalchemy as sa

from lms.db_types import utcnow
from lms.lti import keys
from lms.lti.models import ToolKey
from tests.lti.conftest import post_launch, start_login
from tests.lti.platform import INSTRUCTOR


def _kids(client) -> list[str]:
    response = client.get("/lti/jwks.json")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=300"
    body = response.get_json()
    for key in body["keys"]:
        assert set(key) == {"kty", "n", "e", "kid", "alg", "use"}  # public halves only
        assert (key["alg"], key["use"]) == ("RS256", "sig")
    assert client.get("/.well-known/jwks.json").get_json() == body
    return [key["kid"] for key in body["keys"]]


def test_the_jwks_is_empty_until_a_key_is_needed(db, client):
    assert _kids(client) == []
    key = keys.ensure_current_key()
    db.session.commit()
    assert _kids(client) == [key.kid]
    assert keys.ensure_current_key().id == key.id


def test_after_rotation_both_keys_are_published_and_the_new_one_signs(
    db, client, sim, registered, loaded
):
    old = keys.current_key()
    new = keys.rotate()
    db.session.commit()
    assert _kids(client) == [new.kid, old.kid]
    assert old.retired_at is not None and not old.is_current and old.private_pem

    login = start_login(client, sim, target_link_uri="http://lms.test/lti/launch")
    claims = sim.claims(login.nonce, message_type="LtiDeepLinkingRequest", roles=[INSTRUCTOR])
    path = post_launch(client, sim.sign(claims), login.state).headers["Location"]
    page = client.post(path, data={"module": "alpha"}).get_data(as_text=True)
    signed = re.search(r'name="JWT" value="([^"]+)"', page).group(1)
    assert jwt.get_unverified_header(signed)["kid"] == new.kid


def test_a_retired_key_leaves_the_jwks_after_its_grace_and_loses_its_private_half(db, client):
    first = keys.rotate()
    second = keys.rotate()
    db.session.commit()
    later = utcnow() + keys.RETIRED_KEY_GRACE + timedelta(minutes=1)
    assert [key.kid for key in keys.published_keys(later)] == [second.kid]
    third = keys.rotate(now=later)
    db.session.commit()
    db.session.refresh(first)
    assert first.private_pem is None
    assert [key.kid for key in keys.published_keys(later)] == [third.kid, second.kid]


def test_only_one_key_is_current(db):
    keys.rotate()
    keys.rotate()
    keys.rotate()
    current = db.session.scalars(sa.select(ToolKey).where(ToolKey.is_current.is_(True))).all()
    assert len(current) == 1


def test_cli_rotates_and_lists_keys(app, db):
    runner = app.test_cli_runner()
    rotated = runner.invoke(args=["lms", "lti", "keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    kid = keys.current_key().kid
    assert kid in rotated.output
    listed = runner.invoke(args=["lms", "lti", "keys", "list"])
    assert f"{kid}\t" in listed.output and "current" in listed.output


def test_old_nonces_and_tokens_are_cleared_by_later_logins(db, client, sim, registered):
    from lms.lti import nonces, tokens
    from lms.lti.models import LaunchToken, Nonce
    from tests.lti.conftest import start_login

    old = start_login(client, sim)
    token = tokens.issue_token("continue", registered, {"module_id": "alpha"})
    long_ago = utcnow() - nonces.KEEP_EXPIRED - timedelta(hours=1)
    db.session.execute(sa.update(Nonce).values(expires_at=long_ago))
    db.session.execute(sa.update(LaunchToken).values(expires_at=long_ago))
    db.session.commit()
    start_login(client, sim)
    remaining = db.session.scalars(sa.select(Nonce.nonce)).all()
    assert old.nonce not in remaining and len(remaining) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LaunchToken)) == 0
    assert token
