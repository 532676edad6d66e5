"""A delivery worker killed (SIGKILL) in the middle of a batch, as in production.

The worker is the real ``flask --app wsgi xapi worker`` process. The LRS on 127.0.0.1
stores the first batch it receives and then holds its answer, so the worker dies after
the LRS has the statements but before it could record them as delivered: the worst
moment. A second run (``--once``) then delivers everything: nothing is lost, and the
first batch is sent a second time (at least once). The LRS keeps statements by id, so it
holds each exactly once; a re-sent statement it answers with 200 (same id, same
content) or 409 (already held) counts as delivered.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.wrappers import Request, Response

from lms import create_app
from lms.extensions import db
from tests.browser.conftest import _database_url
from tests.conftest import TEST_SECRET, reset_schema, test_config
from tests.xapi.conftest import FAST, make_world, seed_statements, states
from tests.xapi.lrs import FakeLrs, LrsServer

ROOT = Path(__file__).resolve().parents[2]
STATEMENTS, BATCH = 120, 50
SETTINGS = {**FAST, "XAPI_LEASE_SECONDS": 1}


@dataclass
class AnswerHeldLrs(FakeLrs):
    """Stores the first batch, then holds its answer until ``release`` is set."""

    #: Answer 409 to statements it already holds (some LRSs do) instead of 200.
    conflict_on_resend: bool = False
    stored: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    first_batch: list[str] = field(default_factory=list)

    def statements_post(self, request: Request) -> Response:
        ids = [s["id"] for s in json.loads(request.get_data())]
        if self.conflict_on_resend and all(i in self.statements for i in ids):
            with self.lock:
                for statement_id in ids:
                    self.receipts[statement_id] += 1
            return Response(f"statement {ids[0]} is already stored", 409)
        response = super().statements_post(request)
        if not self.first_batch:
            self.first_batch = ids
            self.stored.set()
            self.release.wait(30)
        return response


@pytest.fixture()
def database(backend, tmp_path):
    url, drop = _database_url(backend, tmp_path)
    app = create_app(test_config(url, **SETTINGS))
    reset_schema(app)
    yield app, url
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if drop:
        drop()


def worker_command(url: str, *args: str) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith("LMS_")}
    env.update(
        LMS_ENV="testing",
        LMS_SECRET_KEY=TEST_SECRET,
        LMS_DATABASE_URL=url,
        LMS_PUBLIC_BASE_URL="http://lms.test",
        **{f"LMS_{key}": json.dumps(value) for key, value in SETTINGS.items()},
    )
    return {
        "args": [sys.executable, "-m", "flask", "--app", "wsgi", "xapi", "worker", *args],
        "cwd": ROOT,
        "env": env,
        "stdout": subprocess.PIPE,
        "stderr": subprocess.STDOUT,
        "text": True,
    }


def deliver_once(url: str, app, endpoint_id: int, timeout: float = 15) -> list[str]:
    """Run ``xapi worker --once`` until every delivery is settled; their outputs."""
    outputs, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = subprocess.run(**worker_command(url, "--once"), timeout=60, check=False)
        assert done.returncode == 0, done.stdout
        outputs.append(done.stdout)
        with app.app_context():
            if states(endpoint_id) == {"delivered": STATEMENTS}:
                return outputs
        time.sleep(0.3)  # the dead worker's claim is not yet free (lease, lock)
    return outputs


@pytest.mark.parametrize("resend_answer", [200, 409])
def test_a_worker_killed_after_the_lrs_stored_its_batch_loses_nothing(database, resend_answer):
    app, url = database
    lrs = LrsServer(AnswerHeldLrs(conflict_on_resend=resend_answer == 409)).start()
    try:
        with app.app_context():
            world = make_world(lrs.url, batch_size=BATCH)
            ids = seed_statements(world, STATEMENTS)
            db.session.remove()
        victim = subprocess.Popen(**worker_command(url))
        try:
            assert lrs.lrs.stored.wait(20), "the worker sent nothing"
            victim.send_signal(signal.SIGKILL)
            assert victim.wait(10) == -signal.SIGKILL
        finally:
            victim.kill()
            victim.stdout.close()
        lrs.lrs.release.set()
        with app.app_context():
            assert "delivered" not in states(world.endpoint_id)  # it died before recording

        outputs = deliver_once(url, app, world.endpoint_id)

        with app.app_context():
            assert states(world.endpoint_id) == {"delivered": STATEMENTS}, outputs
    finally:
        lrs.stop()
    first = set(lrs.lrs.first_batch)
    assert len(first) == BATCH
    assert set(lrs.lrs.statements) == set(ids)  # nothing lost, each held once
    assert lrs.lrs.repeated() == first  # the killed batch, sent again; nothing else
    assert lrs.lrs.problems == []
    resent = [lrs.lrs.receipts[i] for i in first]
    if resend_answer == 200:
        assert resent == [2] * BATCH
    else:  # a 409 for the whole batch: it is split down to single statements
        assert min(resent) >= 2
        assert sum(1 for r in lrs.lrs.statement_requests() if r.status == 409) == 2 * BATCH - 1
