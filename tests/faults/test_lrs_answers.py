"""LRS error classes of DESIGN.md section 5 that tests/xapi/ covers only by their
classification (``test_what_an_answer_means``), played end to end here: a dropped
connection (before and after the LRS stored the batch), 403 and 408.

The worker runs in-process against a real LRS on 127.0.0.1, reached through a TCP proxy
that can drop connections the way a load balancer or a crashing LRS does.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

import pytest

from lms import create_app
from lms.extensions import db
from lms.xapi.models import LrsEndpoint
from lms.xapi.worker import Worker
from tests.browser.conftest import _database_url
from tests.conftest import reset_schema, test_config
from tests.xapi.conftest import FAST, make_world, seed_statements, states
from tests.xapi.lrs import FakeLrs, LrsServer


class DroppingProxy:
    """Forwards HTTP requests to ``upstream``; drops the next ``drops`` connections.

    ``when="before"``: the request is read and the connection closed without passing it
    on (the LRS never sees it). ``when="after"``: the LRS answers, and the connection is
    closed instead of passing the answer back (the LRS stored what the sender never
    learns was stored).
    """

    def __init__(self, upstream_port: int, when: str, drops: int):
        self.upstream_port = upstream_port
        self.when = when
        self.drops = drops
        self.dropped = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/xapi/"

    def _serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            request = _read_request(conn)
            drop = self.dropped < self.drops and b"/statements" in request.split(b"\r\n", 1)[0]
            if drop:
                self.dropped += 1
            if drop and self.when == "before":
                return
            with socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
                upstream.sendall(request)
                answer = b"".join(iter(lambda: upstream.recv(65536), b""))
            if not drop:
                conn.sendall(answer)

    def close(self) -> None:
        self.listener.close()


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += conn.recv(65536)
    # HTTP/1.0 upstream: one request per connection, closed after the answer.
    return head + b"\r\nConnection: close\r\n\r\n" + body


@pytest.fixture()
def app(backend, tmp_path):
    url, drop = _database_url(backend, tmp_path)
    application = create_app(test_config(url, **FAST))
    reset_schema(application)
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()
    if drop:
        drop()


@pytest.fixture()
def lrs():
    server = LrsServer(FakeLrs()).start()
    yield server
    server.stop()


def deliver_until(app, condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        Worker(app).run(once=True)
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def endpoint(world) -> LrsEndpoint:
    db.session.rollback()
    return db.session.get(LrsEndpoint, world.endpoint_id)


@pytest.mark.parametrize("when", ["before", "after"])
def test_dropped_connections_are_retried_and_every_statement_arrives(app, lrs, when):
    proxy = DroppingProxy(lrs.port, when, drops=2)
    try:
        world = make_world(proxy.url, batch_size=10)
        ids = seed_statements(world, 30)
        Worker(app).run(once=True)
        assert proxy.dropped == 1
        assert endpoint(world).last_error.startswith("connection failed: ")
        assert states(world.endpoint_id).get("delivered", 0) < 30
        assert deliver_until(app, lambda: states(world.endpoint_id) == {"delivered": 30})
    finally:
        proxy.close()
    assert proxy.dropped == 2
    assert set(lrs.lrs.statements) == set(ids)
    # Dropped after storing: each dropped batch of 10 is sent again (at least once); the
    # LRS, keeping statements by id, still holds each once.
    assert sum(lrs.lrs.receipts.values()) == 30 + (2 * 10 if when == "after" else 0)


def test_forbidden_pauses_the_endpoint_and_sends_nothing_more(app, lrs):
    world = make_world(lrs.url)
    seed_statements(world, 4)
    lrs.lrs.fail_with = 403
    Worker(app).run(once=True)
    Worker(app).run(once=True)
    assert "HTTP 403" in endpoint(world).paused_reason
    assert states(world.endpoint_id) == {"pending": 4}
    assert len(lrs.lrs.statement_requests()) == 1


def test_request_time_out_is_retried_with_back_off_until_delivered(app, lrs):
    world = make_world(lrs.url)
    ids = seed_statements(world, 5)
    lrs.lrs.fail_with = 408
    Worker(app).run(once=True)
    assert states(world.endpoint_id) == {"pending": 5}
    assert endpoint(world).last_error.startswith("HTTP 408")
    lrs.lrs.fail_with = None
    assert deliver_until(app, lambda: states(world.endpoint_id) == {"delivered": 5})
    first, second = lrs.lrs.statement_requests()[:2]
    assert second.at - first.at >= FAST["XAPI_BACKOFF_BASE"] / 2
    assert set(lrs.lrs.statements) == set(ids)
    assert endpoint(world).failures == 0
