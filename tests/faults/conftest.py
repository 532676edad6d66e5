"""Fault fixtures: the embedded default (a SQLite file) and ways to break it.

``embedded`` is the application on a SQLite file of its own, migrated, with the
catalog's test packages loaded and one logged-in learner. ``sqlite_fault`` makes every
new connection to that file read-only (``PRAGMA query_only``, what SQLite does for a
file it may not write: the tests run as root, whom ``chmod`` does not stop) or full
(``PRAGMA max_page_count`` at the file's current size: SQLite then answers "database or
disk is full" as soon as a write needs one more page, as on a full disk).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms import create_app
from lms.auth import services as accounts
from lms.catalog.sync import sync_packages
from lms.extensions import db
from tests.conftest import DEFAULT_PASSWORD, IsolatedClient, login, reset_schema, test_config

PACKAGES = Path(__file__).resolve().parents[1] / "catalog" / "packages" / "good"
#: Small pages: every statement body then needs pages of its own (overflow pages), so a
#: full file refuses each event's write rather than fitting it in a page's spare room.
PAGE_SIZE = 512


@pytest.fixture(scope="session")
def embedded_template(tmp_path_factory) -> Path:
    """A migrated SQLite file with the test packages loaded and no free pages."""
    path = tmp_path_factory.mktemp("embedded") / "template.sqlite3"
    app = create_app(test_config(f"sqlite:///{path}"))
    reset_schema(app)
    with app.app_context():
        sync_packages(PACKAGES)
        db.session.commit()
        db.engine.dispose()
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as connection:
        connection.execute("PRAGMA journal_mode = DELETE")
        connection.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        connection.execute("VACUUM")
        connection.execute("PRAGMA journal_mode = WAL")
    return path


@dataclass
class Embedded:
    app: object
    path: Path
    client: IsolatedClient
    email: str


@pytest.fixture()
def embedded(embedded_template, tmp_path):
    """The app on a copy of the template, and a client logged in as a learner."""
    path = tmp_path / "lms.sqlite3"
    shutil.copy(embedded_template, path)
    app = create_app(test_config(f"sqlite:///{path}", RATELIMIT_ENABLED=False))
    with app.app_context():
        org = accounts.create_organisation(name="Acme Pharma", slug="acme")
        accounts.create_user(
            email="learner@example.org",
            display_name="Learner",
            password=DEFAULT_PASSWORD,
            organisation=org,
            role="learner",
            learner_category="worker",
        )
        db.session.commit()
    app.test_client_class = IsolatedClient
    client = app.test_client()
    assert login(client, "learner@example.org").status_code == 302
    yield Embedded(app, path, client, "learner@example.org")
    with app.app_context():
        db.engine.dispose()


class SqliteFault:
    """Breaks every new connection of ``app``'s engine until ``lift()``."""

    def __init__(self, app, kind: str):
        self.app = app
        self.kind = kind
        self._engine = None

    def _on_connect(self, dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        if self.kind == "read-only":
            cursor.execute("PRAGMA query_only = ON")
        else:
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    def apply(self) -> SqliteFault:
        with self.app.app_context():
            self._engine = db.engine
            # Inserted first: it must run before the app's own connect listener.
            sa.event.listen(self._engine, "connect", self._on_connect, insert=True)
            self._engine.dispose()
            with self._engine.connect() as connection:
                free = connection.exec_driver_sql("PRAGMA freelist_count").scalar()
            assert free == 0, "a full file must have no free page left"
        return self

    def lift(self) -> None:
        sa.event.remove(self._engine, "connect", self._on_connect)
        self._engine.dispose()


@pytest.fixture()
def sqlite_fault():
    """``sqlite_fault(app, "read-only" | "full")``: applied now, lifted after the test."""
    made: list[SqliteFault] = []

    def apply(app, kind: str) -> SqliteFault:
        made.append(SqliteFault(app, kind).apply())
        return made[-1]

    yield apply
    for fault in made:
        with contextlib.suppress(sa.exc.InvalidRequestError):  # already lifted
            fault.lift()


def form_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, f"no form on {path}"
    return match.group(1)
