"""Load test: 200 learners and 5 trainers against the production stack, for 10 minutes.

    .venv/bin/pip install -e '.[dev,bench]'
    .venv/bin/python bench/load/run.py [--minutes 10] [--learners 200] [--trainers 5]
        [--baseline-minutes 2] [--spawn-rate 2] [--workers 2] [--write]

On a PostgreSQL database of its own (``lms_load`` on 127.0.0.1, dropped and created
again; schema by ``flask db upgrade heads``, the real modules and practicals synced
from ``modules/``), it creates a company with the learners and trainers (every
learner holds a pass of aseptic handling, so that passing GMP fundamentals makes them
eligible for the Grade B gowning sessions scheduled for them), starts a local LRS
(``tests/xapi/lrs.py``: a threaded WSGI server that stores statements by id and counts
every receipt) and registers it with ``flask --app wsgi xapi endpoint add`` (the secret
from ``LMS_XAPI_ENDPOINT_SECRET``), serves the application with gunicorn and the
repository's ``gunicorn.conf.py`` (the Dockerfile's worker count) and starts
``--workers`` ``flask --app wsgi xapi worker`` processes.

It then runs locust headless (``bench/load/locustfile.py``): first the bare Flask
baseline app of ``bench/_common.py`` (a page of one row and an insert) with the same
number of users, spawn rate and reading times, then the learners and trainers. Memory
(RSS) of the gunicorn workers and of the delivery workers is sampled every 5 seconds.
At the end it waits for the outbox to drain, compares the statement ids in the database
with those the LRS received (lost, duplicated, unknown), counts what the learners did
(lessons read, attempts passed and failed, seats booked, no session over capacity),
reads gunicorn's access and error logs (5xx answers, tracebacks, worker time-outs),
and measures the plain HTTP POST of the same statements in batches of 100
(``bench/xapi_delivery.py``'s baseline) to a second LRS. ``--write`` puts the results
into docs/performance.md (adding the section the first time). It exits 1 when a
request failed, gunicorn answered 5xx or logged an error, or a statement was lost,
duplicated or left undelivered. Logs and locust's CSV files stay in /tmp/lms-load-*.

Two settings differ from a production deployment, both because every simulated
person comes from 127.0.0.1 over plain HTTP: ``LMS_SESSION_COOKIE_SECURE=false`` (the
session cookie travels without TLS on the loopback) and ``LMS_LOGIN_ADDRESS_LIMIT``
raised (200 people logging in within two minutes from one address).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import _common as common  # noqa: E402
from bench.load import results, stack  # noqa: E402
from bench.load.stack import DATABASE, PASSWORD, URL  # noqa: E402
from bench.xapi_delivery import baseline as plain_post  # noqa: E402
from tests.xapi.lrs import KEY, SECRET, FakeLrs, LrsServer  # noqa: E402

MODULE = "gmp-fundamentals"
BIN = Path(sys.executable).parent
# Database and people -------------------------------------------------------------------


def create_database() -> None:
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    for command in (
        ["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", "--force", DATABASE],
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", DATABASE],
    ):
        subprocess.run(command, check=True, env=env)


def seed(learners: int, trainers: int, sessions: int, capacity: int) -> dict:
    """The organisations, people, aseptic-handling passes and Grade B gowning sessions."""
    from lms.auth import services as accounts
    from lms.auth.models import User
    from lms.catalog.models import Module
    from lms.extensions import db
    from lms.practicals.models import PracticalType
    from lms.practicals.sessions import create_session
    from lms.progress.models import Qualification
    from lms.quiz.models import Attempt

    app = common.application(URL)
    now = datetime.now(UTC).replace(microsecond=0)
    with app.app_context():
        accounts.create_organisation(name="Training Centre", slug="centre", is_centre=True)
        company = accounts.create_organisation(name="Acme Pharma", slug="acme")
        first = accounts.create_user(
            email="learner0@example.org",
            display_name="Learner 0",
            password=PASSWORD,
            organisation=company,
            learner_category="worker",
        )
        rows = [
            {
                "email": f"learner{i}@example.org",
                "display_name": f"Learner {i}",
                "role": "learner",
                "learner_category": "worker",
            }
            for i in range(1, learners)
        ] + [
            {"email": f"trainer{i}@example.org", "display_name": f"Trainer {i}", "role": "trainer"}
            for i in range(trainers)
        ]
        for row in rows:
            row.update(password_hash=first.password_hash, organisation_id=company.id)
        db.session.execute(sa.insert(User), rows)
        people = db.session.scalars(
            sa.select(User).where(User.organisation_id == company.id).order_by(User.id)
        ).all()
        aseptic = db.session.get(Module, "aseptic-handling")
        for person in people:
            if person.role != "learner":
                continue
            attempt = Attempt(
                user_id=person.id,
                module_id=aseptic.id,
                version_id=aseptic.current_version_id,
                registration=str(uuid.uuid4()),
                number=1,
                started_at=now - timedelta(days=30, minutes=20),
                submitted_at=now - timedelta(days=30),
                state="submitted",
                draw=[],
                score_raw=9,
                score_max=10,
                score_scaled=0.9,
                passed=True,
            )
            db.session.add(attempt)
            db.session.flush()
            db.session.add(
                Qualification(
                    kind="pass",
                    user_id=person.id,
                    module_id=aseptic.id,
                    version_id=aseptic.current_version_id,
                    attempt_id=attempt.id,
                    score_scaled=0.9,
                    issued_at=now - timedelta(days=30),
                    valid_until=now + timedelta(days=335),
                )
            )
        trainer = next(p for p in people if p.role == "trainer")
        gowning = db.session.get(PracticalType, "grade-b-gowning")
        for n in range(sessions):
            create_session(
                practical_type=gowning,
                organisation=company,
                starts_at=now + timedelta(days=7 + n // 2, hours=4 * (n % 2)),
                room=f"Clean room {1 + n % 3}",
                trainer=trainer,
                capacity=capacity,
                by=trainer,
                now=now,
            )
        module = db.session.get(Module, MODULE)
        bank = module.current_version.questions
        from lms.catalog import queries

        lessons = [entry.slug for entry in queries.lesson_outline(module.current_version_id)]
        db.session.commit()
        db.engine.dispose()
    return {"bank": bank, "lessons": lessons}


# Outcome ---------------------------------------------------------------------------------


def wait_for_drain(seconds: float = 300) -> dict:
    """Wait until no delivery is left undelivered (at most ``seconds``); the outbox."""
    engine = stack.database_engine()
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    try:
        while True:
            with engine.connect() as connection:
                states = dict(
                    connection.execute(
                        sa.text("SELECT state, count(*) FROM xapi_delivery GROUP BY state")
                    ).all()
                )
            waiting = sum(n for state, n in states.items() if state != "delivered")
            if not waiting or time.monotonic() > deadline:
                break
            time.sleep(1)
        with engine.connect() as connection:
            ids = set(connection.execute(sa.text("SELECT uuid FROM xapi_statement")).scalars())
            lag = connection.execute(
                sa.text(
                    "SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY "
                    "extract(epoch FROM d.delivered_at - s.created_at)) "
                    "FROM xapi_delivery d JOIN xapi_statement s ON s.id = d.statement_id "
                    "WHERE d.state = 'delivered'"
                )
            ).scalar()
            bodies = list(
                connection.execute(sa.text("SELECT body FROM xapi_statement ORDER BY id")).scalars()
            )
    finally:
        engine.dispose()
    return {
        "states": states,
        "ids": ids,
        "lag": lag or [0, 0, 0],
        "bodies": bodies,
        "drain_seconds": time.monotonic() - started,
    }


def activity(lesson_count: int) -> dict:
    """What the learners did, read from the database."""
    queries = {
        "reads": "SELECT count(*) FROM catalog_lesson_read WHERE module_id = :module",
        "readers": "SELECT count(DISTINCT user_id) FROM catalog_lesson_read "
        "WHERE module_id = :module",
        "read_all": "SELECT count(*) FROM (SELECT user_id FROM catalog_lesson_read "
        "WHERE module_id = :module GROUP BY user_id HAVING count(*) >= :lessons) AS done",
        "passed": "SELECT count(*) FROM quiz_attempt WHERE module_id = :module "
        "AND state = 'submitted' AND passed",
        "failed": "SELECT count(*) FROM quiz_attempt WHERE module_id = :module "
        "AND state = 'submitted' AND NOT passed",
        "open": "SELECT count(*) FROM quiz_attempt WHERE module_id = :module AND state = 'open'",
        "booked": "SELECT count(*) FROM practical_booking WHERE state = 'booked'",
        "waiting": "SELECT count(*) FROM practical_booking WHERE state = 'waiting'",
        "overbooked": "SELECT count(*) FROM practical_session s WHERE s.capacity < (SELECT "
        "count(*) FROM practical_booking b WHERE b.session_id = s.id AND b.state = 'booked')",
    }
    engine = stack.database_engine()
    try:
        with engine.connect() as connection:
            return {
                name: connection.execute(
                    sa.text(sql), {"module": MODULE, "lessons": lesson_count}
                ).scalar()
                for name, sql in queries.items()
            }
    finally:
        engine.dispose()


def plain_post_rate(bodies: list[str]) -> float:
    """Statements per second of bare ``requests`` POSTs of 100-statement batches."""
    if not bodies:
        return 0.0
    server = LrsServer(FakeLrs(key="k", secret="s")).start()  # noqa: S106
    try:
        batches = [
            ("[" + ",".join(bodies[i : i + 100]) + "]").encode() for i in range(0, len(bodies), 100)
        ]
        seconds = plain_post(server.url + "statements", batches)
    finally:
        server.stop()
    return len(bodies) / seconds


# Main ----------------------------------------------------------------------------------


def measure(args, out: Path) -> dict:
    print("creating lms_load", flush=True)
    create_database()
    common.prepare_database(URL)
    world = seed(args.learners, args.trainers, args.sessions, args.capacity)
    args.lessons = world["lessons"]
    (out / "bank.json").write_text(json.dumps(world["bank"]))
    lrs = LrsServer(FakeLrs()).start()
    subprocess.run(  # noqa: S603 (our own virtual environment's flask)
        [str(BIN / "flask"), "--app", "wsgi", "xapi", "endpoint", "add"]
        + ["--organisation", "centre", "--name", "Load LRS", "--url", lrs.url, "--key", KEY],
        cwd=ROOT,
        env=common.app_environment(URL, LMS_XAPI_ENDPOINT_SECRET=SECRET),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    users = args.learners + args.trainers
    result: dict = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    result["locust"] = subprocess.run(  # noqa: S603
        [str(BIN / "locust"), "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    print(f"results in {out}; waiting for the benchmark lock", flush=True)
    with common.bench_lock():
        result["baseline"] = []
        if args.baseline_minutes:
            print("baseline app under load", flush=True)
            stack.log_gunicorn_to(out, "base")
            with common.gunicorn("bench._common:baseline_app()", URL) as base_url:
                stack.locust(
                    base_url, ["BaselineUser"], users, args.baseline_minutes, out / "base", args
                )
            result["baseline"] = stack.read_csv(out / "base_stats.csv")
        workers = stack.start_workers(args.workers, out)
        sampler = stack.Sampler(workers)
        print("application under load", flush=True)
        try:
            stack.log_gunicorn_to(out, "lms")
            with common.gunicorn("wsgi:app", URL) as lms_url:
                sampler.start()
                started = time.monotonic()
                stack.locust(
                    lms_url, ["LearnerUser", "TrainerUser"], users, args.minutes, out / "lms", args
                )
                elapsed = time.monotonic() - started
                sampler.done.set()
                sampler.join()
                print("draining the outbox", flush=True)
                outbox = wait_for_drain()
        finally:
            stack.stop(workers)
    lrs.stop()
    received = set(lrs.lrs.receipts)
    result.update(
        pages=stack.read_csv(out / "lms_stats.csv"),
        failures=stack.read_csv(out / "lms_failures.csv"),
        resent=stack.read_resent(out / "lms_notes.json"),
        outbox=outbox,
        lag=outbox["lag"],
        statements=len(outbox["ids"]),
        received=len(received),
        lost=len(outbox["ids"] - received),
        unknown=len(received - outbox["ids"]),
        duplicated=len(lrs.lrs.repeated()),
        lrs_problems=lrs.lrs.problems,
        statement_rate=len(outbox["ids"]) / elapsed,
        post_rate=plain_post_rate(outbox["bodies"]),
        cpu=sampler.cpu_seconds(),
        cpu_window=sampler.seconds,
        machine_busy=sampler.machine_busy,
        web_rss=sampler.web,
        web_max_one=sampler.web_max_one,
        delivery_rss=sampler.delivery,
        activity=activity(len(args.lessons)),
        troubles=stack.troubles(out),
        statuses=stack.server_statuses(out / "lms-access.log"),
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--baseline-minutes", type=float, default=2)
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument("--trainers", type=int, default=5)
    parser.add_argument("--spawn-rate", type=float, default=2, help="people started a second")
    parser.add_argument("--workers", type=int, default=2, help="xapi worker processes")
    parser.add_argument("--sessions", type=int, default=24, help="Grade B gowning sessions")
    parser.add_argument("--capacity", type=int, default=8, help="seats per session")
    parser.add_argument("--wait-min", type=float, default=2)
    parser.add_argument("--wait-max", type=float, default=8)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()

    # Every simulated person comes from 127.0.0.1 over plain HTTP (see the docstring).
    os.environ["LMS_SESSION_COOKIE_SECURE"] = "false"
    os.environ["LMS_REMEMBER_COOKIE_SECURE"] = "false"
    os.environ["LMS_LOGIN_ADDRESS_LIMIT"] = "100000 per minute"
    # The local LRS runs in this process: no access log line per batch.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    out = Path(tempfile.mkdtemp(prefix="lms-load-"))
    result = measure(args, out)
    text = results.report(result, args)
    print(text)
    if result["lrs_problems"]:
        print("LRS problems:", result["lrs_problems"][:5])
    if args.write:
        results.write(text)
    found = results.problems(result)
    if found:
        print("FAILED: " + "; ".join(found) + f" (logs in {out})")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
