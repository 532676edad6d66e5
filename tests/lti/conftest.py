"""LTI fixtures: a simulated platform registered for Acme, and launches driven as a
browser and the platform drive them (login initiation, authorisation, form POST)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from lms.lti import validation
from tests.catalog.conftest import loaded, module_root, sync_modules  # noqa: F401
from tests.lti.platform import SimulatedPlatform, query_of

BASE = "http://lms.test"


@pytest.fixture(autouse=True)
def _fresh_keyset_cache():
    """Each test's platform has its own keys: no keyset cached by an earlier test."""
    validation._keysets.clear()
    yield
    validation._keysets.clear()


@pytest.fixture()
def sim(httpserver) -> SimulatedPlatform:
    return SimulatedPlatform(httpserver)


@pytest.fixture()
def acme(make_org, centre):
    return make_org("Acme Pharma")


@pytest.fixture()
def registered(db, sim, acme):
    """The simulated platform registered for Acme (which also makes our first key)."""
    from lms.lti import services

    platform = services.register_platform(
        organisation=acme,
        deployment_ids=[sim.deployment_id],
        name="Acme Moodle",
        issuer=sim.issuer,
        client_id=sim.client_id,
        auth_login_url=sim.auth_login_url,
        auth_token_url=sim.token_url,
        keyset_url=sim.keyset_url,
    )
    db.session.commit()
    return platform


@dataclass
class Login:
    """What the login initiation gave: the redirect's parameters."""

    response: object
    params: dict[str, str]

    @property
    def state(self) -> str:
        return self.params["state"]

    @property
    def nonce(self) -> str:
        return self.params["nonce"]


def start_login(client, sim: SimulatedPlatform, method: str = "GET", **overrides) -> Login:
    """The platform's third-party initiated login; returns our redirect's parameters."""
    params = sim.login_params(**overrides)
    if method == "GET":
        response = client.get("/lti/login", query_string=params)
    else:
        response = client.post("/lti/login", data=params)
    location = response.headers.get("Location", "")
    return Login(response, query_of(location) if response.status_code == 302 else {})


def post_launch(client, token: str, state: str, **headers):
    return client.post("/lti/launch", data={"id_token": token, "state": state}, headers=headers)


def launch(client, sim: SimulatedPlatform, *, headers=None, **claim_overrides):
    """A whole launch: login initiation, the platform's id token, the POST to us."""
    login = start_login(client, sim)
    assert login.response.status_code == 302, login.response.get_data(as_text=True)[:300]
    token = sim.sign(sim.claims(login.nonce, **claim_overrides))
    return post_launch(client, token, login.state, **(headers or {}))


@pytest.fixture()
def counts(db):
    """``counts()``: how many users, identities, links and members exist (nothing
    provisioned by a refused launch)."""
    from lms.auth.models import User
    from lms.lti.models import Identity, LinkMember, ResourceLink

    def count() -> dict[str, int]:
        db.session.expire_all()
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (User, Identity, ResourceLink, LinkMember)
        }

    return count
