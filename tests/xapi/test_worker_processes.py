"""Worker processes started like in production (``flask --app wsgi xapi worker``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lms.extensions import db
from lms.xapi.worker import Worker
from tests.xapi.conftest import make_world, seed_statements, states
from tests.xapi.test_worker import wait_for

ROOT = Path(__file__).resolve().parents[2]


def start_worker(live, *args: str, **config) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "xapi", "worker", *args],
        cwd=ROOT,
        env=live.environment(**config),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_worker_killed_mid_batch_loses_nothing(live, lrs):
    setup = live(XAPI_LEASE_SECONDS=1)
    app = setup.app
    with app.app_context():
        world = make_world(lrs.url, batch_size=50)
        ids = seed_statements(world, 120)
    lrs.lrs.hold.clear()
    victim = start_worker(setup, XAPI_LEASE_SECONDS=1)
    try:
        assert lrs.lrs.arrived.wait(20), "the worker sent nothing"
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
    finally:
        victim.kill()
        victim.stdout.close()
    lrs.lrs.hold.set()
    with app.app_context():
        time.sleep(1.1)  # the dead worker's lease runs out
        assert wait_for(
            lambda: (
                Worker(app).run(once=True) >= 0 and states(world.endpoint_id) == {"delivered": 120}
            )
        )
    assert set(lrs.lrs.statements) == set(ids)
    first_batch = set(ids[:50])
    assert lrs.lrs.repeated() <= first_batch


def test_sigterm_lets_the_worker_finish_its_batch_and_exit(live, lrs):
    setup = live()
    with setup.app.app_context():
        world = make_world(lrs.url, batch_size=10)
        seed_statements(world, 10)
    lrs.lrs.hold.clear()
    process = start_worker(setup)
    try:
        assert lrs.lrs.arrived.wait(20)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        lrs.lrs.hold.set()
        output, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, output
    assert "Worker stopped after settling 10 deliveries." in output
    with setup.app.app_context():
        assert states(world.endpoint_id) == {"delivered": 10}


@pytest.mark.postgres_only
def test_three_workers_on_postgresql_deliver_10000_statements_once_each(live, lrs, backend):
    if backend != "postgresql":
        pytest.skip("several workers at once need PostgreSQL (SKIP LOCKED)")
    # What this checks is that no two workers hold the same rows. A batch whose answer
    # comes after the read time-out is sent again, by design (the LRS keeps one copy per
    # statement id): on a loaded machine the test LRS, in this process, can take longer
    # than the fast settings' 1 s, so the time-outs here are a real deployment's.
    patient = {"XAPI_CONNECT_TIMEOUT": 5.0, "XAPI_READ_TIMEOUT": 30.0}
    setup = live(**patient)
    with setup.app.app_context():
        world = make_world(lrs.url, batch_size=100)
        ids = seed_statements(world, 10_000)
        db.session.remove()
    workers = [start_worker(setup, "--once", **patient) for _ in range(3)]
    outputs = []
    for process in workers:
        try:
            outputs.append(process.communicate(timeout=90)[0])
        finally:
            process.kill()
    with setup.app.app_context():
        assert states(world.endpoint_id) == {"delivered": 10_000}
    assert len(lrs.lrs.statements) == 10_000
    assert set(lrs.lrs.statements) == set(ids)
    assert lrs.lrs.repeated() == set(), "\n".join(o[-3000:] for o in outputs)
    settled = [int(out.rsplit("settling ", 1)[1].split()[0]) for out in outputs]
    assert sum(settled) == 10_000
    assert sum(1 for count in settled if count > 0) >= 2, settled


def test_cli_worker_once_drains_and_exits(live, lrs):
    setup = live()
    with setup.app.app_context():
        world = make_world(lrs.url)
        seed_statements(world, 7)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "wsgi",
            "xapi",
            "worker",
            "--once",
            "--threads",
            "2",
        ],
        cwd=ROOT,
        env=setup.environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "settling 7 deliveries" in done.stdout
    assert len(lrs.lrs.statements) == 7
    assert os.environ.get("LMS_XAPI_ENDPOINT_SECRET") is None
