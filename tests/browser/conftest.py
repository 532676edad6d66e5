"""Browser harness: the app served by a real WSGI server, driven by Debian's Chromium.

Data is committed for real here (the browser talks to another thread), so every test
module gets a freshly migrated database of its own.
"""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from lms import create_app
from lms.extensions import db
from tests.conftest import postgres_url, reset_schema, test_config
from tests.npm import npm_package

CHROMIUM = os.environ.get("LMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
SCREENSHOTS = os.environ.get("LMS_SCREENSHOT_DIR")
HERE = Path(__file__).resolve().parent
#: axe-core's impacts that fail a page; "moderate" and "minor" are reported, not failed.
BLOCKING_IMPACTS = ("serious", "critical")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


def _database_url(backend: str, tmp_path: Path):
    """A fresh database; for PostgreSQL a new database beside the test one."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'live.sqlite3'}", None
    base = postgres_url()
    if not base:
        pytest.skip("PostgreSQL not selected (set LMS_TEST_DATABASE_URL)")
    name = f"lms_live_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return base.rsplit("/", 1)[0] + "/" + name, drop


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def live_server(backend, tmp_path_factory):
    """The application on its own committed database, served on a free 127.0.0.1 port."""
    url, drop = _database_url(backend, tmp_path_factory.mktemp("live"))
    app = create_app(test_config(url, RATELIMIT_ENABLED=False))
    reset_schema(app)
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()
    if drop:
        drop()


@pytest.fixture()
def seed(live_server):
    """Run a function inside the live app with a committed session: ``seed(fn)``."""

    def run(function, *args, **kwargs):
        with live_server.app.app_context():
            result = function(*args, **kwargs)
            db.session.commit()
            return result

    return run


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script (npm), installed beside these tests on first use."""
    return (npm_package(HERE, "axe-core", "axe-core@^4") / "axe.min.js").read_text()


class Accessibility:
    """Runs axe-core in the page as it is now; collects what it finds."""

    def __init__(self, source: str):
        self.source = source
        self.checked: list[str] = []

    def violations(self, tab) -> list[dict]:
        # Evaluated through the DevTools protocol, so the page's CSP does not block it.
        if not tab.evaluate("typeof window.axe !== 'undefined'"):
            tab.evaluate(self.source)
        found = tab.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " targets: v.nodes.map(n => n.target.join(' '))}))"
        )
        return [v for v in found if v["impact"] in BLOCKING_IMPACTS]

    def __call__(self, tab) -> None:
        """Fail with a readable list if the page has serious or critical violations."""
        tab.wait_for_load_state()
        self.checked.append(tab.url)
        found = self.violations(tab)
        assert not found, f"{tab.url}: " + "; ".join(
            f"{v['impact']} {v['id']} ({v['help']}) at {', '.join(v['targets'][:3])}" for v in found
        )


@pytest.fixture()
def axe(axe_source):
    """``axe(tab)``: the page has no serious or critical accessibility violation."""
    return Accessibility(axe_source)


@pytest.fixture()
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture()
def phone(chromium, live_server):
    """A 360 px wide touch screen, as on a small phone."""
    context = chromium.new_context(
        base_url=live_server.url,
        locale="fr-FR",
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def screenshot(tab, name: str) -> None:
    """Save a screenshot to ``$LMS_SCREENSHOT_DIR`` (docs/screenshots/ when refreshing docs)."""
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def assert_fits_width(tab) -> None:
    """Nothing on the page forces sideways scrolling."""
    overflow = tab.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"page is {overflow}px wider than the screen"
