"""Every invalid login initiation or launch is refused with a clear page (400, 401 or
403, never 500), audited with its reason, and provisions nothing."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.lti.models import Nonce
from tests.lti.conftest import post_launch, start_login
from tests.lti.platform import CLAIM, PlatformKey

NOTHING = {"User": 0, "Identity": 0, "ResourceLink": 0, "LinkMember": 0}


def _refusal(db, response, status: int, reason: str, text: str) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == status, html[:400]
    assert "Launch refused" in html and text in html
    assert reason in html
    db.session.expire_all()
    record = db.session.scalar(
        sa.select(AuditRecord)
        .where(AuditRecord.action == "lti.launch.refused")
        .order_by(AuditRecord.id.desc())
    )
    assert json.loads(record.details)["reason"] == reason


def _signed_launch(client, sim, *, sign=None, **claims):
    login = start_login(client, sim)
    body = sim.claims(login.nonce, **claims)
    token = sign(body) if sign else sim.sign(body)
    return post_launch(client, token, login.state)


def test_bad_signature(db, client, sim, registered, loaded, counts):
    impostor = PlatformKey()
    response = _signed_launch(
        client, sim, sign=lambda body: sim.sign(body, key=impostor, kid=sim.key.kid)
    )
    _refusal(db, response, 401, "bad_signature", "signature does not match")
    assert counts() == NOTHING


def test_tampered_claims_break_the_signature(db, client, sim, registered, loaded, counts):
    def tamper(body):
        header, payload, signature = sim.sign(body).split(".")
        import base64

        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims[CLAIM + "roles"] = ["http://purl.imsglobal.org/vocab/lis/v2/system/person#SysAdmin"]
        forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        return f"{header}.{forged}.{signature}"

    _refusal(db, _signed_launch(client, sim, sign=tamper), 401, "bad_signature", "signature")
    assert counts() == NOTHING


def test_unknown_kid_after_looking_again_at_the_platform_keys(
    db, client, sim, registered, loaded, counts
):
    stranger = PlatformKey()
    response = _signed_launch(client, sim, sign=lambda body: sim.sign(body, key=stranger))
    _refusal(db, response, 401, "unknown_key", "does not publish")
    assert sim.keyset_fetches == 2  # the cached copy, then a fresh one
    assert counts() == NOTHING


def test_a_key_the_platform_rotated_in_is_fetched_again(db, client, sim, registered, loaded):
    assert _signed_launch(client, sim).status_code == 302
    rotated = PlatformKey()
    sim.published.append(rotated)
    response = _signed_launch(
        client, sim, sign=lambda body: sim.sign(body, key=rotated), sub="platform-user-2"
    )
    assert response.status_code == 302


def test_none_and_hmac_algorithms_are_refused(db, client, sim, registered, loaded, counts):
    import jwt

    def hmac_signed(body):
        return jwt.encode(body, "x" * 32, algorithm="HS256", headers={"kid": sim.key.kid})

    response = _signed_launch(client, sim, sign=hmac_signed)
    _refusal(db, response, 401, "bad_signature", "signature")
    assert counts() == NOTHING


def test_replayed_nonce_with_the_same_state(
    db, client, make_client, sim, registered, loaded, counts
):
    login = start_login(client, sim)
    token = sim.sign(sim.claims(login.nonce))
    assert post_launch(client, token, login.state).status_code == 302
    before = counts()
    attacker = make_client()  # has captured the id token, the state and its cookie
    attacker.set_cookie(f"lti1p3-{login.state}", login.state, path="/lti/")
    _refusal(db, post_launch(attacker, token, login.state), 403, "replayed", "already used")
    assert counts() == before


def test_replayed_id_token_after_a_fresh_login_initiation(
    db, client, make_client, sim, registered, loaded, counts
):
    first = start_login(client, sim)
    token = sim.sign(sim.claims(first.nonce))
    assert post_launch(client, token, first.state).status_code == 302
    before = counts()
    attacker = make_client()
    fresh = start_login(attacker, sim)
    _refusal(db, post_launch(attacker, token, fresh.state), 403, "replayed", "already used")
    assert counts() == before


def test_a_nonce_we_never_issued(db, client, sim, registered, loaded, counts):
    login = start_login(client, sim)
    response = post_launch(client, sim.sign(sim.claims("made-up-nonce")), login.state)
    _refusal(db, response, 403, "unknown_nonce", "not started here")
    assert counts() == NOTHING


def test_an_expired_nonce(db, client, sim, registered, loaded, counts):
    login = start_login(client, sim)
    row = db.session.scalar(sa.select(Nonce).where(Nonce.nonce == login.nonce))
    row.expires_at = row.issued_at
    db.session.commit()
    response = post_launch(client, sim.sign(sim.claims(login.nonce)), login.state)
    _refusal(db, response, 403, "unknown_nonce", "too long ago")
    assert counts() == NOTHING


def test_wrong_audience(db, client, sim, registered, loaded, counts):
    response = _signed_launch(client, sim, aud="another-tool")
    _refusal(db, response, 401, "wrong_audience", "another tool")
    assert counts() == NOTHING


def test_several_audiences_need_our_client_as_authorised_party(
    db, client, sim, registered, loaded, counts
):
    response = _signed_launch(client, sim, aud=["another-tool", sim.client_id], azp="another-tool")
    _refusal(db, response, 401, "wrong_audience", "another tool")
    assert counts() == NOTHING
    accepted = _signed_launch(client, sim, aud=["another-tool", sim.client_id], azp=sim.client_id)
    assert accepted.status_code == 302


def test_expired_token(db, client, sim, registered, loaded, counts):
    now = int(time.time())
    response = _signed_launch(client, sim, iat=now - 900, exp=now - 300)
    _refusal(db, response, 401, "expired", "has expired")
    assert counts() == NOTHING
    # A nonce of a refused launch is not spent: the launch was rolled back.
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Nonce).where(Nonce.used_at.isnot(None))
        )
        == 0
    )


def test_token_issued_in_the_future(db, client, sim, registered, loaded, counts):
    now = int(time.time())
    response = _signed_launch(client, sim, iat=now + 3600, exp=now + 4000)
    _refusal(db, response, 401, "not_yet_valid", "in the future")
    assert counts() == NOTHING


def test_a_token_without_expiry(db, client, sim, registered, loaded, counts):
    login = start_login(client, sim)
    body = sim.claims(login.nonce)
    del body["exp"]
    _refusal(db, post_launch(client, sim.sign(body), login.state), 400, "malformed", "malformed")
    assert counts() == NOTHING


def test_unknown_issuer(db, client, sim, registered, loaded, counts):
    response = _signed_launch(client, sim, iss="https://unknown.example.org")
    _refusal(db, response, 403, "unknown_platform", "not registered here")
    assert counts() == NOTHING


def test_unknown_deployment(db, client, sim, registered, loaded, counts):
    response = _signed_launch(client, sim, **{CLAIM + "deployment_id": "999"})
    _refusal(db, response, 403, "unknown_deployment", "deployment")
    assert counts() == NOTHING


def test_a_disabled_platform(db, client, sim, registered, loaded, counts):
    login = start_login(client, sim)
    registered.enabled = False
    db.session.commit()
    response = post_launch(client, sim.sign(sim.claims(login.nonce)), login.state)
    _refusal(db, response, 403, "platform_disabled", "switched off")
    assert counts() == NOTHING


def test_missing_state(db, client, sim, registered, loaded, counts):
    login = start_login(client, sim)
    response = client.post("/lti/launch", data={"id_token": sim.sign(sim.claims(login.nonce))})
    _refusal(db, response, 400, "state", "state is missing or does not match")
    assert counts() == NOTHING


def test_mismatched_state(db, client, sim, registered, loaded, counts):
    login = start_login(client, sim)
    other = start_login(client, sim)
    response = post_launch(client, sim.sign(sim.claims(login.nonce)), other.state + "x")
    _refusal(db, response, 400, "state", "does not match")
    assert counts() == NOTHING


@pytest.mark.parametrize("message_type", ["LtiSubmissionReviewRequest", "SomethingElse"])
def test_unsupported_message_type(db, client, sim, registered, loaded, counts, message_type):
    response = _signed_launch(client, sim, message_type=message_type)
    _refusal(db, response, 400, "unsupported_message", "not supported")
    assert counts() == NOTHING


def test_missing_resource_link(db, client, sim, registered, loaded, counts):
    response = _signed_launch(client, sim, **{CLAIM + "resource_link": None})
    _refusal(db, response, 400, "malformed", "malformed")
    assert counts() == NOTHING


def test_a_garbage_id_token(db, client, sim, registered, counts):
    login = start_login(client, sim)
    _refusal(db, post_launch(client, "not-a-jwt", login.state), 400, "malformed", "malformed")
    assert counts() == NOTHING


def test_a_target_outside_this_service(db, client, sim, registered, loaded, counts):
    response = _signed_launch(client, sim, **{CLAIM + "target_link_uri": "https://evil.example"})
    _refusal(db, response, 400, "target", "not part of this service")
    assert counts() == NOTHING


def test_a_module_we_do_not_have(db, client, sim, registered, loaded, counts):
    response = _signed_launch(client, sim, module_id="nowhere")
    _refusal(db, response, 404, "no_module", "does not lead to one of our modules")
    assert counts() == NOTHING


def test_an_email_of_another_organisation_is_not_taken_over(
    db, client, sim, registered, loaded, make_user, make_org, counts
):
    other = make_user("admin", make_org("Other Chemicals"), email="platform-user-1@example.org")
    before = counts()
    response = _signed_launch(client, sim)
    _refusal(db, response, 403, "other_organisation", "another organisation")
    assert counts() == before
    assert client.get("/account").status_code == 302
    assert other.role == "admin"


def test_a_centre_admin_account_cannot_be_used_through_a_platform(
    db, client, sim, loaded, make_user, centre, counts
):
    from lms.lti import services

    services.register_platform(
        organisation=centre,
        deployment_ids=[sim.deployment_id],
        name="Centre Moodle",
        issuer=sim.issuer,
        client_id=sim.client_id,
        auth_login_url=sim.auth_login_url,
        auth_token_url=sim.token_url,
        keyset_url=sim.keyset_url,
    )
    make_user("admin", centre, email="platform-user-1@example.org")
    db.session.commit()
    before = counts()
    _refusal(db, _signed_launch(client, sim), 403, "account_refused", "cannot be used")
    assert counts() == before
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    "overrides,status,reason",
    [
        ({"iss": "https://unknown.example.org"}, 403, "unknown_platform"),
        ({"client_id": "another-tool"}, 403, "unknown_platform"),
        ({"lti_deployment_id": "999"}, 403, "unknown_deployment"),
        ({"login_hint": None}, 400, "malformed"),
        ({"target_link_uri": "https://evil.example/"}, 400, "target"),
    ],
)
def test_login_initiation_refusals(db, client, sim, registered, overrides, status, reason):
    login = start_login(client, sim, **overrides)
    _refusal(db, login.response, status, reason, "")
    assert "Location" not in login.response.headers
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Nonce)) == 0


def test_a_refusal_page_may_be_framed_by_the_known_platform_only(db, client, sim, registered):
    login = start_login(client, sim)
    known = post_launch(client, sim.sign(sim.claims("made-up")), login.state)
    assert (
        f"frame-ancestors 'self' {sim.issuer.lower()}" in known.headers["Content-Security-Policy"]
    )
    unknown = _signed_launch(client, sim, iss="https://unknown.example.org")
    assert "frame-ancestors 'none'" in unknown.headers["Content-Security-Policy"]


def test_a_platform_whose_keys_cannot_be_fetched(db, client, sim, registered, loaded, counts):
    registered.keyset_url = sim.server.url_for("/missing-jwks")
    db.session.commit()
    response = _signed_launch(client, sim)
    assert response.status_code == 502
    assert "could not be fetched" in response.get_data(as_text=True)
    assert counts() == NOTHING
