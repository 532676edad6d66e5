"""An LTI 1.3 launch from the simulated platform lands the learner in the module."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.auth.models import User
from lms.lti.models import Identity, LinkMember, Nonce, ResourceLink
from tests.conftest import login as password_login
from tests.lti.conftest import BASE, launch, post_launch, start_login
from tests.lti.platform import ADMINISTRATOR, INSTRUCTOR, LEARNER, LIS


def _identity(db, sub="platform-user-1") -> Identity:
    return db.session.scalar(sa.select(Identity).where(Identity.subject == sub))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_login_initiation_redirects_to_the_platform_with_state_and_nonce(
    db, client, sim, registered, method
):
    login = start_login(client, sim, method=method)
    assert login.response.status_code == 302
    assert login.response.headers["Location"].startswith(sim.auth_login_url + "?")
    params = login.params
    assert params["scope"] == "openid"
    assert params["response_type"] == "id_token"
    assert params["response_mode"] == "form_post"
    assert params["prompt"] == "none"
    assert params["client_id"] == sim.client_id
    assert params["redirect_uri"] == f"{BASE}/lti/launch"
    assert params["login_hint"] == "user-hint-42"
    assert params["lti_message_hint"] == "message-hint-7"
    assert params["state"].startswith("state-") and len(params["nonce"]) >= 32
    cookie = login.response.headers["Set-Cookie"]
    assert f"lti1p3-{params['state']}={params['state']}" in cookie
    assert "HttpOnly" in cookie and "Path=/lti/" in cookie and "Max-Age=300" in cookie
    nonce = db.session.scalar(sa.select(Nonce).where(Nonce.nonce == params["nonce"]))
    assert nonce.platform_id == registered.id and nonce.used_at is None


def test_the_state_cookie_is_cross_site_and_the_session_cookie_stays_lax_over_https(
    app, client, sim, registered
):
    response = client.get(
        "/lti/login", query_string=sim.login_params(), base_url="https://lms.test"
    )
    state_cookie = response.headers["Set-Cookie"]
    for attribute in ("Secure", "HttpOnly", "SameSite=None", "Partitioned", "Path=/lti/"):
        assert attribute in state_cookie
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_a_learner_launch_lands_in_the_module_as_a_provisioned_learner(
    db, client, sim, registered, loaded, acme
):
    response = launch(client, sim)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/modules/alpha")
    assert "lti1p3-state-" in response.headers["Set-Cookie"]  # the state cookie is cleared
    page = client.get("/modules/alpha")
    assert page.status_code == 200
    assert "Alpha basics" in page.get_data(as_text=True) or "Les bases alpha" in page.get_data(
        as_text=True
    )
    identity = _identity(db)
    user = identity.user
    assert identity.provisioned and identity.issuer == sim.issuer
    assert (user.organisation_id, user.role) == (acme.id, "learner")
    assert (user.email, user.display_name, user.language) == (
        "platform-user-1@example.org",
        "Ada Lovelace",
        "fr",
    )
    link = db.session.scalar(sa.select(ResourceLink))
    assert (link.link_id, link.module_id, link.context_title) == (
        "link-1",
        "alpha",
        "GMP for operators",
    )
    assert link.lineitem_url == sim.lineitem_url(1)
    assert db.session.scalar(sa.select(LinkMember)).user_id == user.id
    actions = db.session.scalars(sa.select(AuditRecord.action)).all()
    assert "lti.user.provisioned" in actions and "lti.launch" in actions


def test_a_second_launch_finds_the_same_account(db, client, make_client, sim, registered, loaded):
    launch(client, sim)
    again = make_client()
    assert launch(again, sim).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Identity)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LinkMember)) == 1


def test_without_custom_parameter_the_target_link_uri_names_the_module(
    db, client, sim, registered, loaded
):
    response = launch(client, sim, module_id=None)
    assert response.headers["Location"].endswith("/modules/alpha")


@pytest.mark.parametrize(
    "roles,cap_org,expected",
    [
        ([LEARNER], "acme", "learner"),
        ([INSTRUCTOR], "acme", "trainer"),
        ([LIS + "membership/Instructor#TeachingAssistant"], "acme", "trainer"),
        ([LEARNER, ADMINISTRATOR], "acme", "admin"),
        ([LIS + "system/person#SysAdmin"], "acme", "admin"),
        ([ADMINISTRATOR], "centre", "trainer"),
    ],
)
def test_roles_map_from_lti_roles_never_to_centre_admin(
    db, client, sim, acme, centre, loaded, roles, cap_org, expected
):
    from lms.lti import services

    org = acme if cap_org == "acme" else centre
    services.register_platform(
        organisation=org,
        deployment_ids=[sim.deployment_id],
        name="Platform",
        issuer=sim.issuer,
        client_id=sim.client_id,
        auth_login_url=sim.auth_login_url,
        auth_token_url=sim.token_url,
        keyset_url=sim.keyset_url,
    )
    db.session.commit()
    assert launch(client, sim, roles=roles).status_code == 302
    user = _identity(db).user
    assert (user.role, user.organisation_id) == (expected, org.id)
    assert not user.is_centre_admin


def test_a_provisioned_account_follows_the_role_the_platform_gives(
    db, client, make_client, sim, registered, loaded
):
    launch(client, sim, roles=[LEARNER])
    launch(make_client(), sim, roles=[INSTRUCTOR])
    user = _identity(db).user
    db.session.refresh(user)
    assert user.role == "trainer"
    assert "lti.user.role_changed" in db.session.scalars(sa.select(AuditRecord.action)).all()


def test_an_existing_account_of_the_organisation_is_matched_by_email_and_keeps_its_role(
    db, client, sim, registered, loaded, make_user, acme
):
    trainer = make_user("trainer", acme, email="platform-user-1@example.org")
    assert launch(client, sim, roles=[LEARNER]).status_code == 302
    identity = _identity(db)
    assert identity.user_id == trainer.id and not identity.provisioned
    db.session.refresh(trainer)
    assert trainer.role == "trainer"


def test_a_launch_without_email_provisions_a_placeholder_address(
    db, client, sim, registered, loaded
):
    assert (
        launch(client, sim, email=None, name=None, given_name=None, family_name=None).status_code
        == 302
    )
    user = _identity(db).user
    assert user.email.endswith("@lti.invalid")
    assert user.display_name.startswith("Acme Moodle ")


def test_a_cross_site_framed_launch_continues_in_a_window_of_its_own(
    db, client, sim, registered, loaded
):
    framed = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site"}
    response = launch(client, sim, headers=framed)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {sim.issuer.lower()}" in csp
    assert "X-Frame-Options" not in response.headers
    html = response.get_data(as_text=True)
    assert client.get("/modules/alpha").status_code == 302  # not logged in inside the frame
    href = html.split('href="/lti/continue/', 1)[1].split('"', 1)[0]
    assert 'target="_blank"' in html
    opened = client.get(f"/lti/continue/{href}")
    assert opened.status_code == 302 and opened.headers["Location"].endswith("/modules/alpha")
    assert client.get("/modules/alpha").status_code == 200
    assert client.get(f"/lti/continue/{href}").status_code == 403  # single use


def test_a_same_site_framed_launch_lets_the_platform_frame_the_session(
    db, client, sim, registered, loaded
):
    framed = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "same-site"}
    assert launch(client, sim, headers=framed).status_code == 302
    page = client.get("/modules/alpha")
    assert f"frame-ancestors 'self' {sim.issuer.lower()}" in page.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in page.headers


def test_pages_of_a_session_not_launched_in_a_frame_cannot_be_framed(
    db, client, make_client, sim, registered, loaded, make_user, acme
):
    assert launch(client, sim).status_code == 302
    page = client.get("/modules/alpha")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    other = make_user("learner", acme)
    fresh = make_client()
    assert password_login(fresh, other).status_code == 302
    assert fresh.get("/modules/alpha").headers["X-Frame-Options"] == "DENY"


def test_the_launched_learner_is_logged_in_even_if_someone_else_was(
    db, client, sim, registered, loaded, make_user, acme
):
    other = make_user("learner", acme)
    assert password_login(client, other).status_code == 302
    assert launch(client, sim).status_code == 302
    assert client.get("/account").status_code == 200
    html = client.get("/account").get_data(as_text=True)
    assert "Ada Lovelace" in html


def test_the_state_cookie_must_come_back_with_the_launch(db, client, make_client, sim, registered):
    login = start_login(client, sim)
    token = sim.sign(sim.claims(login.nonce))
    elsewhere = make_client()
    response = post_launch(elsewhere, token, login.state)
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
