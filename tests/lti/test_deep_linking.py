"""Deep linking: a platform's teacher picks one of our modules for their course."""

from __future__ import annotations

import re

import jwt
import sqlalchemy as sa
from jwt.algorithms import RSAAlgorithm

from lms.audit.models import AuditRecord
from lms.lti.models import Identity
from tests.lti.conftest import post_launch, start_login
from tests.lti.platform import INSTRUCTOR, LEARNER

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"


def _deep_linking_launch(client, sim, roles=None):
    login = start_login(client, sim, target_link_uri="http://lms.test/lti/launch")
    claims = sim.claims(
        login.nonce, message_type="LtiDeepLinkingRequest", roles=roles or [INSTRUCTOR]
    )
    return post_launch(client, sim.sign(claims), login.state)


def _choice_path(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def test_a_teacher_picks_a_module_and_the_platform_gets_a_signed_response(
    db, client, sim, registered, loaded
):
    path = _choice_path(_deep_linking_launch(client, sim))
    picker = client.get(path)
    html = picker.get_data(as_text=True)
    assert picker.status_code == 200
    assert "Choose a module" in html and "GMP for operators" in html
    assert 'value="alpha"' in html and 'value="beta"' in html
    assert (
        f"frame-ancestors 'self' {sim.issuer.lower()}" in picker.headers["Content-Security-Policy"]
    )

    chosen = client.post(path, data={"module": "alpha"})
    assert chosen.status_code == 200
    page = chosen.get_data(as_text=True)
    return_url = sim.server.url_for("/deep-link-return")
    assert f'action="{return_url}"' in page
    assert "data-autosubmit" in page and "autosubmit.js" in page  # scripted
    assert '<button type="submit"' in page  # and without script
    assert f"form-action 'self' {sim.issuer.lower()}" in chosen.headers["Content-Security-Policy"]
    signed = re.search(r'name="JWT" value="([^"]+)"', page).group(1)

    # The platform checks our signature with our published keys.
    header = jwt.get_unverified_header(signed)
    ours = client.get("/.well-known/jwks.json").get_json()["keys"]
    key = next(k for k in ours if k["kid"] == header["kid"])
    claims = jwt.decode(
        signed, RSAAlgorithm.from_jwk(key), algorithms=["RS256"], audience=sim.issuer
    )
    assert claims["iss"] == sim.client_id
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[LTI + "version"] == "1.3.0"
    assert claims[LTI + "deployment_id"] == sim.deployment_id
    assert claims[DL + "data"] == "opaque-platform-data"
    [item] = claims[DL + "content_items"]
    assert item["type"] == "ltiResourceLink"
    assert item["url"] == "http://lms.test/modules/alpha"
    assert item["custom"] == {"module_id": "alpha"}
    assert item["lineItem"]["scoreMaximum"] == 100
    assert item["lineItem"]["resourceId"] == "alpha"
    assert item["title"]
    assert claims["exp"] > claims["iat"]
    assert "lti.deep_link.chosen" in db.session.scalars(sa.select(AuditRecord.action)).all()


def test_a_chosen_link_then_launches_learners_into_that_module(
    db, client, make_client, sim, registered, loaded
):
    path = _choice_path(_deep_linking_launch(client, sim))
    client.post(path, data={"module": "beta"})
    learner = make_client()
    login = start_login(learner, sim, target_link_uri="http://lms.test/modules/beta")
    claims = sim.claims(login.nonce, module_id="beta")
    claims[LTI + "target_link_uri"] = "http://lms.test/modules/beta"
    response = post_launch(learner, sim.sign(claims), login.state)
    assert response.headers["Location"].endswith("/modules/beta")


def test_the_choice_can_be_made_once(db, client, sim, registered, loaded):
    path = _choice_path(_deep_linking_launch(client, sim))
    assert client.post(path, data={"module": "alpha"}).status_code == 200
    again = client.post(path, data={"module": "alpha"})
    assert again.status_code == 403
    assert "expired or was already used" in again.get_data(as_text=True)
    assert client.get(path).status_code == 403


def test_no_choice_or_an_unknown_module_shows_the_picker_again(db, client, sim, registered, loaded):
    path = _choice_path(_deep_linking_launch(client, sim))
    empty = client.post(path, data={})
    assert empty.status_code == 400 and "Choose a module." in empty.get_data(as_text=True)
    unknown = client.post(path, data={"module": "nowhere"})
    assert unknown.status_code == 400
    assert client.post(path, data={"module": "alpha"}).status_code == 200


def test_a_learner_cannot_choose_content(db, client, sim, registered, loaded, counts):
    response = _deep_linking_launch(client, sim, roles=[LEARNER])
    assert response.status_code == 403
    assert "Only teachers" in response.get_data(as_text=True)
    assert counts()["User"] == 0


def test_a_deep_linking_launch_provisions_nobody(db, client, sim, registered, loaded):
    _choice_path(_deep_linking_launch(client, sim))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Identity)) == 0


def test_an_unknown_token_is_refused(db, client):
    assert client.get("/lti/deep-link/not-a-token").status_code == 403
    assert client.post("/lti/deep-link/not-a-token", data={"module": "alpha"}).status_code == 403
