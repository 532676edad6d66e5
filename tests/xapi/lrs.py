"""A small, strict LRS on 127.0.0.1 for the tests: a real HTTP server in a thread.

It checks what it receives (Basic auth, X-Experience-API-Version, a JSON array of
statements with UUID ids) and stores statements by id, counting every receipt, so a
test can see duplicates and losses. Its behaviour is switched by the test: down (503),
refusing credentials, slow, rate-limiting, rejecting chosen statements.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

KEY, SECRET = "lrs-key", "lrs-secret-0123456789"


@dataclass
class Received:
    at: float
    path: str
    status: int
    count: int


@dataclass
class FakeLrs:
    key: str = KEY
    secret: str = SECRET
    #: Status answered to every statements request instead of storing (503, 401, ...).
    fail_with: int | None = None
    #: Seconds to wait before answering a statements request.
    delay: float = 0.0
    #: (status, Retry-After) answered to the next statements request, once.
    once: tuple[int, str] | None = None
    #: Statement ids the LRS refuses (the whole batch gets 400 naming the first).
    bad_ids: set[str] = field(default_factory=set)
    #: Set while a test holds requests (they wait until it is cleared).
    hold: threading.Event = field(default_factory=threading.Event)
    #: Set when a statements request arrives (for tests waiting on one).
    arrived: threading.Event = field(default_factory=threading.Event)
    statements: dict[str, dict] = field(default_factory=dict)
    receipts: Counter = field(default_factory=Counter)
    log: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        self.hold.set()

    # The WSGI application ------------------------------------------------------------

    def __call__(self, environ, start_response):
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        if request.path == "/xapi/about" and request.method == "GET":
            return Response(
                json.dumps({"version": ["1.0.3", "1.0.2"]}), 200, content_type="application/json"
            )
        if request.path != "/xapi/statements" or request.method != "POST":
            return Response("not found", 404)
        self.arrived.set()
        self.hold.wait(30)
        if self.delay:
            time.sleep(self.delay)
        response = self.statements_post(request)
        with self.lock:
            self.log.append(
                Received(time.monotonic(), request.path, response.status_code, self._count(request))
            )
        return response

    def _count(self, request: Request) -> int:
        try:
            return len(json.loads(request.get_data()))
        except ValueError:
            return 0

    def statements_post(self, request: Request) -> Response:
        if self.once is not None:
            (status, retry_after), self.once = self.once, None
            return Response("slow down", status, headers={"Retry-After": retry_after})
        if self.fail_with is not None:
            return Response(f"failing on purpose ({self.fail_with})", self.fail_with)
        expected = "Basic " + base64.b64encode(f"{self.key}:{self.secret}".encode()).decode()
        if request.headers.get("Authorization") != expected:
            return Response("bad credentials", 401)
        error = self.check(request)
        if error:
            self.problems.append(error)
            return Response(error, 400)
        statements = json.loads(request.get_data())
        bad = [s["id"] for s in statements if s["id"] in self.bad_ids]
        if bad:
            return Response(f"statement {bad[0]}: result.score.raw must be a number", 400)
        with self.lock:
            for statement in statements:
                known = self.statements.get(statement["id"])
                if known is not None and known != statement:
                    return Response(f"statement {statement['id']} conflicts", 409)
            for statement in statements:
                self.statements[statement["id"]] = statement
                self.receipts[statement["id"]] += 1
        return Response(
            json.dumps([s["id"] for s in statements]), 200, content_type="application/json"
        )

    def check(self, request: Request) -> str | None:
        """What is wrong with the request, per the xAPI HTTP rules this LRS enforces."""
        if not request.headers.get("X-Experience-API-Version", "").startswith("1.0"):
            return "missing X-Experience-API-Version header"
        if request.mimetype != "application/json":
            return f"Content-Type {request.mimetype!r} is not application/json"
        try:
            statements = json.loads(request.get_data())
        except ValueError:
            return "the body is not JSON"
        if not isinstance(statements, list) or not statements:
            return "the body is not a non-empty JSON array"
        for statement in statements:
            try:
                uuid.UUID(statement["id"])
            except (KeyError, ValueError, TypeError):
                return "a statement has no UUID id"
            if not {"actor", "verb", "object"} <= statement.keys():
                return f"statement {statement['id']} lacks actor, verb or object"
        return None

    # For the tests -------------------------------------------------------------------

    def statement_requests(self) -> list[Received]:
        with self.lock:
            return list(self.log)

    def repeated(self) -> set[str]:
        return {sid for sid, count in self.receipts.items() if count > 1}


class LrsServer:
    """Serves a ``FakeLrs`` on 127.0.0.1; can stop and start again on the same port."""

    def __init__(self, lrs: FakeLrs, port: int = 0):
        self.lrs = lrs
        self.port = port
        self._server = None
        self._thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/xapi/"

    def start(self) -> LrsServer:
        self._server = make_server("127.0.0.1", self.port, self.lrs, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self.lrs.hold.set()
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)
            self._server = None
