"""Fixtures of the xAPI tests: a strict LRS on 127.0.0.1, and committed databases.

The worker tests need data that other connections, threads and processes see, so they
cannot use the rolled-back ``db`` fixture: ``live`` gives an application on a database
of its own (a fresh SQLite file per test; on PostgreSQL a separate database, created
once per session, emptied after each test and dropped at the end).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import create_app
from lms.auth import services as accounts
from lms.db_types import utcnow
from lms.extensions import db as _db
from lms.xapi import services
from lms.xapi.models import LrsEndpoint, Statement, StatementDelivery
from lms.xapi.statements import BuildSettings, build_statement
from tests.conftest import postgres_url, reset_schema, test_config
from tests.xapi.events import LESSON, WHEN, every_event
from tests.xapi.lrs import KEY, SECRET, FakeLrs, LrsServer

#: Fast settings for the worker tests: short time-outs, back-off and leases.
FAST = {
    "XAPI_POLL_INTERVAL": 0.05,
    "XAPI_CONNECT_TIMEOUT": 1.0,
    "XAPI_READ_TIMEOUT": 1.0,
    "XAPI_BACKOFF_BASE": 0.2,
    "XAPI_BACKOFF_MAX": 0.5,
    "XAPI_LEASE_SECONDS": 10,
}


@pytest.fixture()
def lrs():
    server = LrsServer(FakeLrs()).start()
    yield server
    server.stop()


def _live_postgres_url() -> str:
    base = sa.engine.make_url(postgres_url())
    return base.set(database=f"{base.database}_live").render_as_string(hide_password=False)


def _admin_engine() -> sa.Engine:
    url = sa.engine.make_url(postgres_url()).set(drivername="postgresql+psycopg")
    return sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def live_template(backend, tmp_path_factory):
    """A migrated database: a SQLite file to copy, or the PostgreSQL live database's URL."""
    if backend == "postgresql":
        if not postgres_url():
            pytest.skip("PostgreSQL not selected (set LMS_TEST_DATABASE_URL)")
        url = _live_postgres_url()
        name = sa.engine.make_url(url).database
        engine = _admin_engine()
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        reset_schema(create_app(test_config(url)))
        yield url
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()
    else:
        path = tmp_path_factory.mktemp("live") / "template.sqlite3"
        reset_schema(create_app(test_config(f"sqlite:///{path}")))
        yield str(path)


@dataclass
class Live:
    """An application on a committed database, and how other processes reach it."""

    app: object
    database_url: str

    def environment(self, **config) -> dict[str, str]:
        """Environment variables that make ``flask --app wsgi`` use this database."""
        settings = {**FAST, **config}
        env = {key: value for key, value in os.environ.items() if not key.startswith("LMS_")}
        env.update(
            LMS_ENV="testing",
            LMS_SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
            LMS_DATABASE_URL=self.database_url,
            LMS_PUBLIC_BASE_URL="http://lms.test",
            **{f"LMS_{key}": json.dumps(value) for key, value in settings.items()},
        )
        return env


@pytest.fixture()
def live(live_template, backend, tmp_path):
    """``live(**config)``: an app on a committed database, emptied after the test."""
    made = []
    if backend == "sqlite":
        path = tmp_path / "live.sqlite3"
        shutil.copy(live_template, path)
        url = f"sqlite:///{path}"
    else:
        url = live_template

    def factory(**config) -> Live:
        app = create_app(test_config(url, **{**FAST, **config}))
        made.append(app)
        return Live(app, url)

    yield factory
    for app in made:
        with app.app_context():
            _db.session.remove()
            if backend == "postgresql" and app is made[0]:
                names = sa.inspect(_db.engine).get_table_names()
                tables = ", ".join(f'"{name}"' for name in names if name != "alembic_version")
                with _db.engine.begin() as conn:
                    conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            _db.engine.dispose()


@dataclass
class World:
    organisation_id: int
    learner_id: int
    endpoint_id: int


def make_world(lrs_url: str, *, batch_size: int = 100, key: str = KEY, secret: str = SECRET):
    """An organisation, a learner and one endpoint to ``lrs_url`` (committed)."""
    suffix = uuid.uuid4().hex[:8]
    org = accounts.create_organisation(name=f"Acme {suffix}", slug=f"acme-{suffix}")
    learner = accounts.create_user(
        email=f"learner-{suffix}@example.org",
        display_name="Learner",
        password="correct horse battery",
        organisation=org,
        role="learner",
        learner_category="worker",
    )
    endpoint = services.create_endpoint(
        organisation=org, name="LRS", url=lrs_url, key=key, secret=secret, batch_size=batch_size
    )
    _db.session.commit()
    return World(org.id, learner.id, endpoint.id)


def seed_statements(world: World, count: int, *, endpoint_ids=None) -> list[str]:
    """Insert ``count`` statements of the world's learner, queued for its endpoint(s).

    Bulk inserts of real built statements (fresh ids), as ``record`` would store them.
    """
    from lms.auth.models import User

    learner = _db.session.get(User, world.learner_id)
    settings = BuildSettings(base_url="http://lms.test", platform="LMS")
    templates = [build_statement(e, settings) for e in every_event(learner, learner)]
    now = utcnow()
    rows, ids = [], []
    for n in range(count):
        body = dict(templates[n % len(templates)], id=str(uuid.uuid4()))
        ids.append(body["id"])
        rows.append(
            {
                "uuid": body["id"],
                "organisation_id": world.organisation_id,
                "user_id": world.learner_id,
                "kind": "lesson.experienced",
                "verb": body["verb"]["id"],
                "object_id": body["object"]["id"],
                "occurred_at": WHEN,
                "created_at": now - timedelta(seconds=1),
                "body": services.serialise(body),
            }
        )
    _db.session.execute(sa.insert(Statement), rows)
    query = sa.select(Statement.uuid, Statement.id)
    if count <= 1000:
        query = query.where(Statement.uuid.in_(ids))
    by_uuid = {row.uuid: row.id for row in _db.session.execute(query)}
    deliveries = [
        {
            "statement_id": by_uuid[sid],
            "endpoint_id": endpoint_id,
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for endpoint_id in (endpoint_ids or [world.endpoint_id])
        for sid in ids
    ]
    _db.session.execute(sa.insert(StatementDelivery), deliveries)
    _db.session.commit()
    return ids


def states(endpoint_id: int | None = None) -> dict[str, int]:
    """How many deliveries are in each state (in a fresh transaction)."""
    _db.session.rollback()
    query = sa.select(StatementDelivery.state, sa.func.count()).group_by(StatementDelivery.state)
    if endpoint_id is not None:
        query = query.where(StatementDelivery.endpoint_id == endpoint_id)
    result = dict(_db.session.execute(query).all())
    _db.session.commit()
    return result


__all__ = ["LESSON", "LrsEndpoint", "make_world", "seed_statements", "states"]
