"""The database server drops a request's connection (what a restart does to every open
connection): the request gets the site's 503 page, a request whose work was done keeps
its answer, and the next requests are served on fresh connections.

PostgreSQL only: the server ends one connection with ``pg_terminate_backend``, at a
chosen moment of a real request. ``bench/faults/db_restart.py`` restarts a whole server
under load.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms import create_app
from lms.extensions import db
from tests.browser.conftest import _database_url
from tests.conftest import reset_schema, test_config

pytestmark = pytest.mark.postgres_only


@pytest.fixture()
def app(backend, tmp_path):
    if backend != "postgresql":
        pytest.skip("a server that drops connections: PostgreSQL")
    url, drop = _database_url(backend, tmp_path)
    application = create_app(test_config(url))
    reset_schema(application)

    def terminate_own_connection() -> None:
        pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with db.engine.connect() as other:
            other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    @application.route("/_dropped-then-query")
    def dropped_then_query():
        terminate_own_connection()
        db.session.execute(sa.text("SELECT 1"))
        return "unreachable"

    @application.route("/_dropped-after-work")
    def dropped_after_work():
        terminate_own_connection()
        return "done"

    yield application
    with application.app_context():
        db.engine.dispose()
    drop()


def test_a_query_on_a_dropped_connection_gets_the_503_page_then_service_resumes(app):
    client = app.test_client()
    page = client.get("/_dropped-then-query")
    assert page.status_code == 503
    assert int(page.headers["Retry-After"]) > 0
    assert "cannot use its database" in page.get_data(as_text=True)
    assert client.get("/healthz").json == {"status": "ok", "database": "ok"}


def test_a_connection_dropped_after_the_work_keeps_the_answer(app):
    """The session's end (a ROLLBACK on the dead connection) must not turn it into a 500."""
    client = app.test_client()
    done = client.get("/_dropped-after-work")
    assert (done.status_code, done.get_data(as_text=True)) == (200, "done")
    assert client.get("/healthz").status_code == 200
