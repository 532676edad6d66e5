"""Shared fixtures.

Every test that asks for ``app``/``db``/``client`` runs once on SQLite and, when
``LMS_TEST_DATABASE_URL`` names a PostgreSQL database, once more on PostgreSQL. The
schema comes from the migrations (upgrade from empty), once per backend and session.
Each test runs inside a transaction that is rolled back afterwards; requests made with
``client`` commit to savepoints inside it. Tests that need data really committed (live
server, concurrent requests) use ``committed_app`` instead.
"""

from __future__ import annotations

import contextvars
import itertools
import os
import re
import shutil

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_sqlalchemy.session import _app_ctx_id

from lms import create_app
from lms.extensions import db as _db
from lms.extensions import limiter


def pytest_sessionstart(session):
    """Compile the translation catalogues when they are newer than their compiled form."""
    from pathlib import Path

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in Path(__file__).resolve().parent.parent.glob("lms/translations/*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as source, mo.open("wb") as target:
                write_mo(target, read_po(source, locale=po.parent.parent.name), use_fuzzy=True)


TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
BACKENDS = ["sqlite", "postgresql"]


def postgres_url() -> str | None:
    return os.environ.get("LMS_TEST_DATABASE_URL") or None


def test_config(database_url: str, **extra) -> dict:
    return {
        "ENV": "testing",
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET,
        "DATABASE_URL": database_url,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "PUBLIC_BASE_URL": "http://lms.test",
        "SERVER_NAME": None,
        **extra,
    }


test_config.__test__ = False  # a helper, not a test, wherever it is imported


def reset_schema(app) -> None:
    """Empty the database completely, then build the schema from the migrations."""
    import flask_migrate

    with app.app_context():
        engine = _db.engine
        if engine.dialect.name == "postgresql":
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE")
                conn.exec_driver_sql("CREATE SCHEMA public")
        else:
            path = engine.url.database
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                if path and os.path.exists(path + suffix):
                    os.remove(path + suffix)
        flask_migrate.upgrade(revision="heads")
        _db.engine.dispose()


def database_url_for(backend: str, tmp_path_factory, name: str) -> str:
    if backend == "postgresql":
        base = postgres_url()
        if not base:
            pytest.skip("PostgreSQL not selected (set LMS_TEST_DATABASE_URL)")
        return base
    return f"sqlite:///{tmp_path_factory.mktemp(name) / 'lms.sqlite3'}"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def app(backend, tmp_path_factory):
    """The application on a freshly migrated database of the current backend."""
    application = create_app(test_config(database_url_for(backend, tmp_path_factory, "db")))
    reset_schema(application)
    yield application
    with application.app_context():
        _db.engine.dispose()


class IsolatedClient(FlaskClient):
    """A test client whose requests never reuse the test's own application context.

    Flask reuses a pushed app context for requests; ``g`` (and the logged-in user cached
    in it) would then leak between requests and between clients.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture()
def db(app):
    """The database inside a transaction that is rolled back after the test."""
    ctx = app.app_context()
    ctx.push()
    connection = _db.engine.connect()
    transaction = connection.begin()
    original = _db.session
    _db.session = sa.orm.scoped_session(
        sa.orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_app_ctx_id,
    )
    limiter.reset()
    try:
        yield _db
    finally:
        _db.session.remove()
        _db.session = original
        transaction.rollback()
        connection.close()
        ctx.pop()


@pytest.fixture()
def client(app, db):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture()
def make_client(app, db):
    """Further clients (another browser) for the same test."""

    def factory() -> FlaskClient:
        app.test_client_class = IsolatedClient
        return app.test_client()

    return factory


_counter = itertools.count(1)


@pytest.fixture()
def make_org(db):
    from lms.auth import services

    def factory(name: str | None = None, **kwargs):
        number = next(_counter)
        name = name or f"Organisation {number}"
        slug = kwargs.pop("slug", None) or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        org = services.create_organisation(name=name, slug=slug, **kwargs)
        db.session.commit()
        return org

    return factory


DEFAULT_PASSWORD = "correct horse battery"


@pytest.fixture()
def make_user(db, make_org):
    """``make_user(role="trainer", org=org)``: a committed user with ``DEFAULT_PASSWORD``."""
    from lms.auth import services

    def factory(role: str = "learner", org=None, **kwargs):
        number = next(_counter)
        org = org or make_org()
        kwargs.setdefault("email", f"{role}{number}@example.org")
        kwargs.setdefault("display_name", f"{role.title()} {number}")
        kwargs.setdefault("password", DEFAULT_PASSWORD)
        if role == "learner":
            kwargs.setdefault("learner_category", "worker")
        user = services.create_user(organisation=org, role=role, **kwargs)
        db.session.commit()
        return user

    return factory


@pytest.fixture()
def centre(make_org):
    return make_org("Training Centre", is_centre=True)


#: The roles of ``two_organisations``'s people, plus an anonymous visitor.
ROLES = ["anonymous", "learner", "trainer", "admin", "other_admin", "centre_admin"]


@pytest.fixture()
def two_organisations(make_org, make_user, centre):
    """Acme with a learner, trainer and admin; Other with its admin; the centre's admin."""
    acme = make_org("Acme Pharma")
    other = make_org("Other Chemicals")
    people = {
        "learner": make_user("learner", acme),
        "trainer": make_user("trainer", acme),
        "admin": make_user("admin", acme),
        "other_admin": make_user("admin", other),
        "centre_admin": make_user("admin", centre),
    }
    return {"acme": acme, "other": other, "people": people}


def as_role(client: FlaskClient, world: dict, role: str) -> FlaskClient:
    """Log ``client`` in as ``world["people"][role]`` (nobody for ``anonymous``)."""
    if role != "anonymous":
        assert login(client, world["people"][role]).status_code == 302
    return client


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on ``path``, as a browser would read it."""
    html = client.get(path, follow_redirects=True).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, user_or_email, password: str = DEFAULT_PASSWORD):
    email = getattr(user_or_email, "email", user_or_email)
    token = csrf_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture()
def login_as(client):
    """``login_as(user)`` logs the default client in and returns it."""

    def do(user, password: str = DEFAULT_PASSWORD, on=None):
        target = on or client
        response = login(target, user, password)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return target

    return do


def post_form(client: FlaskClient, path: str, data: dict, form_path: str | None = None):
    """POST ``data`` to ``path`` with the CSRF token of the page ``form_path`` (default path)."""
    token = csrf_token(client, form_path or path)
    return client.post(path, data={**data, "csrf_token": token})


def expect_outcome(response, outcome, *, redirects: dict[str, str] | None = None) -> None:
    """Assert a response: a status code, ``"login"`` (sent to log in), ``"home"`` (sent to
    the home page) or a name in ``redirects`` (sent to a path ending so)."""
    targets = {"home": "/", **(redirects or {})}
    if outcome == "login":
        assert response.status_code == 302, response.status_code
        assert "/login" in response.headers["Location"]
    elif outcome in targets:
        assert response.status_code == 302, response.status_code
        assert response.headers["Location"].endswith(targets[outcome])
    else:
        assert response.status_code == outcome, response.get_data(as_text=True)[:300]


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium through Playwright, one for the whole run: here, not in
    tests/browser/, because other features' journeys use it too and Playwright's sync
    API cannot run two instances at once."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS

    if not shutil.which(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium not found at {CHROMIUM}; .ci/run installs it")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
