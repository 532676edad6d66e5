"""Admins are e-mailed (through a real SMTP server on 127.0.0.1) when delivery needs them;
and the development server delivers in the background, never under test."""

from __future__ import annotations

import socketserver
import threading
from datetime import timedelta

import pytest

from lms import create_app, xapi
from lms.auth.models import User
from lms.db_types import utcnow
from lms.extensions import db
from lms.xapi import alerts, services, worker
from lms.xapi import views as xapi_views
from tests.conftest import reset_schema, test_config
from tests.xapi.conftest import make_world
from tests.xapi.events import LESSON
from tests.xapi.test_worker import wait_for


class SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP to receive a message."""

    def handle(self):
        self.wfile.write(b"220 test SMTP\r\n")
        lines, in_data = [], False
        while line := self.rfile.readline():
            if in_data:
                if line == b".\r\n":
                    self.server.messages.append(b"".join(lines).decode())
                    lines, in_data = [], False
                    self.wfile.write(b"250 queued\r\n")
                else:
                    lines.append(line)
                continue
            command = line[:4].upper()
            if command == b"DATA":
                in_data = True
                self.wfile.write(b"354 go on\r\n")
            elif command == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture()
def smtp():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpHandler)
    server.daemon_threads = True
    server.messages = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture()
def parked(db, make_org, make_user, centre):
    org = make_org()
    admin = make_user("admin", org)
    centre_admin = make_user("admin", centre)
    learner = make_user("learner", org)
    endpoint = services.create_endpoint(
        organisation=org, name="Acme LRS", url="https://lrs.example.org/xapi", key="k", secret="s"
    )
    statement = xapi.record(
        xapi.LearningEvent(
            kind="lesson.experienced", learner=learner, activity=LESSON, occurred_at=utcnow()
        )
    )
    statement.deliveries[0].state = "parked"
    db.session.commit()
    return {"endpoint": endpoint, "to": {admin.email, centre_admin.email}}


def test_admins_get_one_email_per_interval_when_statements_are_parked(
    app, smtp, parked, monkeypatch
):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp.server_address[1])
    assert alerts.notify_admins() == 1
    [message] = smtp.messages
    assert "Subject: [LMS] xAPI delivery to Acme LRS needs attention" in message
    assert "Parked statements: 1." in message
    assert all(address in message for address in parked["to"])
    assert alerts.notify_admins() == 0  # not again within the interval
    parked["endpoint"].alerted_at = utcnow() - timedelta(days=2)
    assert alerts.notify_admins() == 1


def test_no_email_without_smtp_or_without_trouble(app, db, smtp, monkeypatch, make_org):
    assert alerts.notify_admins() == 0  # MAIL_SERVER is empty
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", smtp.server_address[1])
    services.create_endpoint(
        organisation=make_org(), name="Fine", url="https://lrs.example.org", key="k", secret="s"
    )
    assert alerts.notify_admins() == 0
    assert smtp.messages == []


def test_no_background_delivery_under_test_or_in_production(app):
    assert worker.start_embedded(app) is None
    production = create_app(test_config("sqlite://", ENV="production", TESTING=False))
    assert worker.start_embedded(production) is None


def test_the_development_server_delivers_in_a_background_thread(tmp_path):
    development = create_app(
        test_config(f"sqlite:///{tmp_path / 'dev.sqlite3'}", ENV="development", TESTING=False)
    )
    assert worker.EMBEDDED not in development.extensions  # nothing at start-up
    started = worker.start_embedded(development)
    try:
        assert started is not None and started.thread.is_alive()
        assert worker.start_embedded(development) is started  # once per process
    finally:
        started.stop.set()
        started.thread.join(5)
    assert not started.thread.is_alive()


def test_a_development_server_with_an_endpoint_delivers_after_its_first_request(tmp_path, lrs):

    development = create_app(
        test_config(
            f"sqlite:///{tmp_path / 'dev.sqlite3'}",
            ENV="development",
            TESTING=False,
            XAPI_POLL_INTERVAL=0.05,
        )
    )
    reset_schema(development)
    with development.app_context():
        world = make_world(lrs.url)
        learner = db.session.get(User, world.learner_id)
        statement = xapi.record(
            xapi.LearningEvent(
                kind="lesson.experienced", learner=learner, activity=LESSON, occurred_at=utcnow()
            )
        )
        db.session.commit()
        uuid = statement.uuid
    xapi_views._embedded_checked["at"] = 0.0  # as in a fresh process
    assert development.test_client().get("/healthz").status_code == 200
    embedded = development.extensions[worker.EMBEDDED]
    try:
        assert wait_for(lambda: uuid in lrs.lrs.statements, timeout=5)
    finally:
        embedded.stop.set()
        embedded.thread.join(5)
    with development.app_context():
        db.engine.dispose()
