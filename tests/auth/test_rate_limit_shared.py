"""Several web instances share log-in failure counters through Redis."""

from __future__ import annotations

import os
import uuid

import pytest

from lms import create_app
from lms.auth import services
from lms.extensions import db
from tests.conftest import DEFAULT_PASSWORD, login, reset_schema, test_config

REDIS_URL = os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture()
def redis_available():
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}")


def test_failures_on_one_instance_count_on_another(redis_available, tmp_path):
    database = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    prefix = f"lms-test-{uuid.uuid4().hex}"
    config = test_config(database, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix)
    # Two web instances behind one load balancer, sharing the database and Redis.
    first_app, second_app = create_app(config), create_app(config)
    reset_schema(first_app)
    with first_app.app_context():
        org = services.create_organisation(name="Acme", slug="acme")
        services.create_user(
            email="ana@example.org", display_name="Ana", password=DEFAULT_PASSWORD, organisation=org
        )
        db.session.commit()
    first, second = first_app.test_client(), second_app.test_client()
    for client in (first, first, first, second, second):
        assert login(client, "ana@example.org", "wrong password").status_code == 200
    assert login(first, "ana@example.org", DEFAULT_PASSWORD).status_code == 429
    assert login(second, "ana@example.org", DEFAULT_PASSWORD).status_code == 429
    for app in (first_app, second_app):
        with app.app_context():
            db.engine.dispose()
