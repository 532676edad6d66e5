"""API fixtures: the catalog's test modules, a practical type gated on them, people of
three organisations, tokens, sessions, and a client that speaks bearer tokens."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import timedelta

import pytest

from lms.db_types import utcnow
from tests.catalog.conftest import loaded, module_root, sync_modules  # noqa: F401
from tests.dashboard.conftest import QueryCounter, many_learners, record_attempt  # noqa: F401
from tests.quiz.conftest import clock  # noqa: F401

#: The practical type of these tests: a valid pass of "alpha" with at least 80 %.
GATED_TYPE = "alpha-practical"
_days = itertools.count(5)


@pytest.fixture()
def people(make_org, make_user, centre):
    """Acme's learners, trainer and admin; Other's learner, trainer and admin; the centre's
    admin and trainer."""
    acme = make_org("Acme Pharma")
    other = make_org("Other Chemicals")
    return {
        "acme": acme,
        "other": other,
        "centre": centre,
        "learner": make_user("learner", acme),
        "second_learner": make_user("learner", acme),
        "trainer": make_user("trainer", acme),
        "admin": make_user("admin", acme),
        "other_learner": make_user("learner", other),
        "other_trainer": make_user("trainer", other),
        "other_admin": make_user("admin", other),
        "centre_admin": make_user("admin", centre),
        "centre_trainer": make_user("trainer", centre),
    }


@pytest.fixture()
def practical_types(db):
    """The gated type, and one open to every learner."""
    from lms.practicals.models import PracticalType

    for type_id, rule in (
        (GATED_TYPE, {"qualification_valid": {"module": "alpha", "min_score": 0.8}}),
        ("open-practical", {"role": {"in": ["learner"]}}),
    ):
        db.session.add(
            PracticalType(
                id=type_id,
                title={"en": f"Practical {type_id}", "fr": f"Pratique {type_id}"},
                summary={"en": "Hands-on.", "fr": "Pratique."},
                room_kind="laboratory",
                duration_minutes=120,
                default_capacity=4,
                prerequisites=rule,
                content_hash=uuid.uuid4().hex * 2,
            )
        )
    db.session.commit()


@pytest.fixture()
def make_token(db):
    """``make_token(org, scope="write", expires_at=None)`` -> (token, plain value)."""
    from lms.api import services

    def factory(org, scope: str = "read", name: str | None = None, expires_at=None):
        issued = services.create_token(
            organisation=org,
            name=name or f"{org.slug} {scope}",
            scope=scope,
            expires_at=expires_at,
            by=None,
            now=utcnow(),
        )
        db.session.commit()
        return issued.token, issued.plain

    return factory


@pytest.fixture()
def make_session(db, people, practical_types):
    """``make_session(org=..., type_id=..., capacity=2, starts_in=timedelta(days=5))``."""
    from lms.practicals import sessions
    from lms.practicals.models import PracticalType

    def factory(org=None, *, type_id=GATED_TYPE, capacity=None, starts_in=None, **kwargs):
        org = org or people["acme"]
        trainer = {
            people["acme"].id: people["trainer"],
            people["other"].id: people["other_trainer"],
            people["centre"].id: people["centre_trainer"],
        }[org.id]
        session = sessions.create_session(
            practical_type=db.session.get(PracticalType, type_id),
            organisation=org,
            starts_at=utcnow() + (starts_in or timedelta(days=next(_days))),
            room="Laboratory 1",
            trainer=trainer,
            capacity=capacity,
            by=trainer,
            now=utcnow(),
            **kwargs,
        )
        db.session.commit()
        return session

    return factory


@pytest.fixture()
def qualify(record_attempt):  # noqa: F811
    """``qualify(learner, score=0.9)``: a passed attempt of alpha and its qualification."""

    def grant(learner, module_id: str = "alpha", score: float = 0.9, valid_days: int = 365):
        return record_attempt(learner, module_id, score, passed=True, valid_days=valid_days)

    return grant


@pytest.fixture()
def add_statement(db):
    """``add_statement(learner, verb="experienced", minutes_ago=5)``: a stored statement."""
    from lms.xapi.models import Statement

    def add(learner, verb: str = "experienced", minutes_ago: int = 5):
        moment = utcnow() - timedelta(minutes=minutes_ago)
        statement_id = str(uuid.uuid4())
        body = {
            "id": statement_id,
            "actor": {"account": {"homePage": "http://lms.test", "name": learner.public_id}},
            "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
            "object": {"id": "http://lms.test/modules/alpha"},
            "timestamp": moment.isoformat(),
        }
        statement = Statement(
            uuid=statement_id,
            organisation_id=learner.organisation_id,
            user_id=learner.id,
            kind=f"test.{verb}",
            verb=body["verb"]["id"],
            object_id=body["object"]["id"],
            occurred_at=moment,
            body=json.dumps(body),
        )
        db.session.add(statement)
        db.session.commit()
        return statement

    return add


class Api:
    """Calls the API with a bearer token: ``api.get("/modules", token=plain)``."""

    def __init__(self, client):
        self.client = client

    def _headers(self, token: str | None, headers: dict | None) -> dict[str, str]:
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        return {**sent, **(headers or {})}

    def get(self, path: str, token: str | None = None, headers=None, **kwargs):
        return self.client.get("/api/v1" + path, headers=self._headers(token, headers), **kwargs)

    def post(self, path: str, token: str | None = None, headers=None, **kwargs):
        return self.client.post("/api/v1" + path, headers=self._headers(token, headers), **kwargs)

    def delete(self, path: str, token: str | None = None, headers=None, **kwargs):
        return self.client.delete("/api/v1" + path, headers=self._headers(token, headers), **kwargs)


@pytest.fixture()
def api(client):
    return Api(client)


def error_of(response) -> dict:
    """The ``error`` object of an API error answer (checking its shape)."""
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == response.status_code
    assert body["error"]["message"]
    return body["error"]
