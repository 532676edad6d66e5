"""Shared machinery of the HTTP benchmarks (lesson pages, quiz submission).

Each benchmark creates a fresh PostgreSQL database, builds the schema with
``flask db upgrade heads``, syncs ``modules/``, seeds what it needs directly, then
serves the application and a bare baseline app (``baseline_app`` below) with the
repository's ``gunicorn.conf.py`` on the same database. ``wrk`` (a separate process)
sends a fixed number of requests to each, alternating, and the median run counts.

The whole run holds ``/tmp/bench.lock`` so that two benchmarks never share the cores.

Only the standard library, Flask and SQLAlchemy are imported at module level: gunicorn
imports this module to serve the baseline app, which must stay bare.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "performance.md"
LOCK = "/tmp/bench.lock"  # noqa: S108 (the lock file every benchmark of this machine shares)
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"
SECRET = "bench-secret-key-" + "0123456789abcdef" * 3  # noqa: S105 (a throwaway database)
USER_AGENT = "lms-bench"
#: The Dockerfile runs gunicorn.conf.py's default: 2 x cores + 1 workers.
WORKERS = (os.cpu_count() or 1) * 2 + 1

# The baseline app -------------------------------------------------------------------

ROW_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ row.name }}</title></head>
<body><h1>{{ row.name }}</h1><p>{{ row.body }}</p><p>{{ row.created_at }}</p></body></html>
"""

BENCH_TABLE = sa.Table(
    "bench_row",
    sa.MetaData(),
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now()),
)


def baseline_app():
    """A bare Flask app on the benchmark's database (``BENCH_DATABASE_URL``).

    ``GET /rows/<id>`` renders one row of ``bench_row`` in a Jinja template;
    ``POST /rows`` inserts one row (from the form) and commits. Same driver (psycopg 3)
    and connection pool as the application.
    """
    from flask import Flask, abort, render_template_string, request

    app = Flask(__name__)
    url = os.environ["BENCH_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(url, pool_pre_ping=True)

    @app.get("/rows/<int:row_id>")
    def show(row_id: int):
        with engine.connect() as connection:
            row = connection.execute(
                sa.select(BENCH_TABLE).where(BENCH_TABLE.c.id == row_id)
            ).first()
        if row is None:
            abort(404)
        return render_template_string(ROW_PAGE, row=row)

    @app.post("/rows")
    def insert():
        with engine.begin() as connection:
            connection.execute(
                sa.insert(BENCH_TABLE).values(
                    name=request.form.get("name", "")[:120], body=request.form.get("body", "")
                )
            )
        return "", 201

    @app.get("/healthz")
    def healthz():
        return "ok"

    return app


# Database and servers -----------------------------------------------------------------


@contextlib.contextmanager
def bench_lock():
    """Hold the machine's benchmark lock (waits for another benchmark to finish)."""
    with open(LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def fresh_database(prefix: str = "lms_bench"):
    """Create ``<prefix>_<pid>`` on the local server; yield its URL; drop it afterwards."""
    name = f"{prefix}_{os.getpid()}"
    admin = sa.create_engine(PG_SERVER + "/postgres", isolation_level="AUTOCOMMIT")
    admin = admin.execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def app_environment(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a production instance on ``database_url``."""
    return {
        **os.environ,
        "LMS_ENV": "production",
        "LMS_SECRET_KEY": SECRET,
        "LMS_DATABASE_URL": database_url,
        "LMS_PUBLIC_BASE_URL": "https://lms.example.org",
        "BENCH_DATABASE_URL": database_url,
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def flask_command(database_url: str, *args: str) -> None:
    """Run ``flask --app wsgi ARGS`` against ``database_url`` (schema, module sync)."""
    subprocess.run(  # noqa: S603 (our own virtual environment's flask)
        [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=app_environment(database_url),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def prepare_database(database_url: str) -> None:
    """The schema from the migrations, the modules from ``modules/``, the baseline table."""
    flask_command(database_url, "db", "upgrade", "heads")
    flask_command(database_url, "lms", "modules", "sync")
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    BENCH_TABLE.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            sa.insert(BENCH_TABLE),
            [{"name": f"Row {i}", "body": "A row of the baseline. " * 8} for i in range(1, 101)],
        )
    engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def gunicorn(app_spec: str, database_url: str):
    """Serve ``app_spec`` with gunicorn.conf.py on a free local port; yield the base URL."""
    port = free_port()
    env = app_environment(
        database_url, GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=str(WORKERS)
    )
    server = subprocess.Popen(  # noqa: S603 (our own virtual environment's gunicorn)
        [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py", app_spec],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, server)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_until_up(base: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    time.sleep(1.0)  # every worker booted, not only the first
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within a minute")


# Load ----------------------------------------------------------------------------------

#: wrk script: sends the prepared requests of a file, stops after a fixed number of
#: answers and prints a JSON summary (throughput, latency, unexpected answers).
WRK_SCRIPT = r"""
local lines, count, answered = {}, 0, 0
local index, quota, expect, want_location, cycle = 0, 0, 200, nil, true
local threads = {}
unexpected, elapsed_us, started_us = 0, 0, nil

local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *now);
]]
local clock = ffi.new("bench_timespec")
function now_us()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1e6 + tonumber(clock.tv_nsec) / 1e3
end

function setup(thread)
  table.insert(threads, thread)
end

local function split(text, sep)
  local out, start = {}, 1
  while true do
    local i = string.find(text, sep, start, true)
    if not i then table.insert(out, string.sub(text, start)); return out end
    table.insert(out, string.sub(text, start, i - 1))
    start = i + #sep
  end
end

function init(args)
  quota, expect, cycle = tonumber(args[2]), tonumber(args[3]), args[4] == "cycle"
  want_location = args[5]
  for line in io.lines(args[1]) do
    local f = split(line, "\t")
    local headers = {["Cookie"] = f[3], ["User-Agent"] = "lms-bench"}
    if f[1] == "POST" then
      headers["Content-Type"] = "application/x-www-form-urlencoded"
    end
    table.insert(lines, wrk.format(f[1], f[2], headers, f[4] ~= "" and f[4] or nil))
    count = count + 1
  end
end

function request()
  started_us = started_us or now_us()
  index = index + 1
  if index > count then
    if cycle then index = 1 else return wrk.format("GET", "/healthz") end
  end
  return lines[index]
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= expect then
    unexpected = unexpected + 1
  elseif want_location and not string.find(headers["Location"] or "", want_location, 1, true) then
    unexpected = unexpected + 1
  end
  if answered == quota then
    elapsed_us = now_us() - started_us
    wrk.thread:stop()
    -- End the run now rather than at -d: wrk's main thread sleeps until a SIGINT,
    -- which must find this thread gone (hence the delay).
    os.execute("(sleep 0.05; kill -INT $PPID) &")
  end
end

function done(summary, latency, requests)
  local bad, elapsed = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("unexpected")
    elapsed = math.max(elapsed, thread:get("elapsed_us"))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
    '"mean_us": %.1f, "unexpected": %d, "errors": %d}\n',
    summary.requests, elapsed, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.mean, bad,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


@dataclass(frozen=True)
class Load:
    """``requests`` lines (method, path, cookie, body) and the answer each should get."""

    lines: list[tuple[str, str, str, str]]
    expect: int = 200
    #: A text the ``Location`` header must contain (redirects).
    location: str | None = None
    #: Send the lines again from the top when they run out (False: each once).
    cycle: bool = True


def load(base: str, work: Load, count: int, connections: int) -> Run:
    """Send ``count`` requests of ``work`` over ``connections`` keep-alive connections."""
    with tempfile.TemporaryDirectory() as tmp:
        script, data = Path(tmp, "load.lua"), Path(tmp, "requests.tsv")
        script.write_text(WRK_SCRIPT)
        data.write_text("".join("\t".join(line) + "\n" for line in work.lines))
        args = [str(data), str(count), str(work.expect), "cycle" if work.cycle else "once"]
        if work.location:
            args.append(work.location)
        command = ["wrk", "-t1", f"-c{connections}", "-d300s", "--timeout", "30s"]
        result = subprocess.run(  # noqa: S603
            [*command, "-s", str(script), base, "--", *args],
            capture_output=True,
            text=True,
            check=True,
        )
    match = re.search(r"^BENCH (\{.*\})$", result.stdout, re.M)
    if match is None:
        raise RuntimeError(f"wrk said:\n{result.stdout}\n{result.stderr}")
    summary = json.loads(match.group(1))
    if not summary["duration_us"]:
        raise RuntimeError(f"wrk did not get {count} answers within its time limit")
    if summary["unexpected"] or summary["errors"]:
        raise RuntimeError(f"unexpected answers: {summary}\n{result.stdout}")
    return Run(
        requests=count,
        seconds=summary["duration_us"] / 1e6,
        p50_ms=summary["p50_us"] / 1000,
        p90_ms=summary["p90_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
    )


def median_run(runs: list[Run]) -> Run:
    """The run of median throughput (its latencies with it)."""
    ordered = sorted(runs, key=lambda run: run.rate)
    return ordered[len(ordered) // 2]


# Sessions ------------------------------------------------------------------------------


def session_cookie(app, user) -> tuple[str, str]:
    """A logged-in session cookie of ``user`` and the CSRF token of its forms.

    Built as a log-in would build it (Flask-Login's session for wrk's address and
    user agent), without going through the log-in form and its slow password hash.
    """
    from flask import session
    from flask_login import login_user
    from flask_wtf.csrf import generate_csrf

    with (
        app.app_context(),  # a fresh ``g``: generate_csrf caches the token there
        app.test_request_context(
            "/", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}
        ),
    ):
        login_user(user)
        token = generate_csrf()
        value = app.session_interface.get_signing_serializer(app).dumps(dict(session))
    return f"{app.config['SESSION_COOKIE_NAME']}={value}", token


def application(database_url: str):
    """The application in this process, configured as the served one (for seeding)."""
    from lms import create_app

    return create_app(
        {
            "ENV": "production",
            "SECRET_KEY": SECRET,
            "DATABASE_URL": database_url,
            "PUBLIC_BASE_URL": "https://lms.example.org",
        }
    )


@dataclass(frozen=True)
class World:
    module_id: str
    learner_ids: list[int]


def seed_learners(app, count: int, module_id: str = "gmp-fundamentals") -> World:
    """The centre (with an enabled LRS endpoint, so statements queue deliveries), a
    company and ``count`` of its learners, each enrolled in ``module_id``; committed.

    The first learner goes through ``create_user``; the rest are bulk copies of it
    (same password hash), so seeding stays quick.
    """
    from lms.auth import services as accounts
    from lms.auth.models import User
    from lms.catalog import services as catalog
    from lms.extensions import db
    from lms.xapi import services as xapi

    with app.app_context():
        centre = accounts.create_organisation(name="Centre", slug="centre", is_centre=True)
        company = accounts.create_organisation(name="Acme Pharma", slug="acme")
        xapi.create_endpoint(
            organisation=centre,
            name="LRS",
            url="https://lrs.example.org/xapi/",
            key="key",
            secret="secret",  # noqa: S106 (never used: no worker runs)
        )
        first = accounts.create_user(
            email="learner0@example.org",
            display_name="Learner 0",
            password="correct horse battery",  # noqa: S106
            organisation=company,
            learner_category="worker",
        )
        copies = [
            {
                "email": f"learner{i}@example.org",
                "display_name": f"Learner {i}",
                "password_hash": first.password_hash,
                "organisation_id": company.id,
                "role": "learner",
                "learner_category": "worker",
            }
            for i in range(1, count)
        ]
        if copies:
            db.session.execute(sa.insert(User), copies)
        users = db.session.scalars(sa.select(User).where(User.role == "learner").order_by(User.id))
        module = catalog.find_module(module_id)
        ids = []
        for user in users:
            catalog.open_module(user, module)
            ids.append(user.id)
        db.session.commit()
        return World(module_id, ids)


# Report --------------------------------------------------------------------------------


def machine() -> str:
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPU cores ({cpu or platform.machine()}), shared with wrk, "
        f"PostgreSQL and other jobs; Python {platform.python_version()}"
    )


def results_table(subject: str, base: Run, measured: Run, ratio: float) -> str:
    lines = [
        "| endpoint | requests/s | p50 (ms) | p90 (ms) | p99 (ms) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, run in (("baseline", base), (subject, measured)):
        lines.append(
            f"| {name} | {run.rate:,.0f} | {run.p50_ms:.1f} | {run.p90_ms:.1f} | {run.p99_ms:.1f} |"
        )
    lines.append(f"| **ratio** | **{ratio:.2f}** | | | |")
    return "\n".join(lines)


def write_block(name: str, text: str) -> None:
    """Replace the text between ``<!-- name:begin -->`` and ``<!-- name:end -->``."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    doc = DOC.read_text()
    if begin not in doc:
        raise SystemExit(f"docs/performance.md has no {begin} marker")
    pattern = re.escape(begin) + ".*?" + re.escape(end)
    DOC.write_text(re.sub(pattern, lambda _m: f"{begin}\n{text}\n{end}", doc, flags=re.S))


def spread(runs: list[Run]) -> str:
    rates = [run.rate for run in runs]
    return f"{min(rates):,.0f}–{max(rates):,.0f} (sd {statistics.pstdev(rates):,.0f})"


def open_attempt_rows(version, registrations: dict, user_ids, now, seed: int) -> list[dict]:
    """Rows of a first, open attempt of ``version``'s quiz for each of ``user_ids`` (as
    the quiz would start them, questions drawn with a seeded generator): for INSERT."""
    import random

    from lms.quiz import rules
    from lms.quiz.draw import draw_questions

    settings = version.quiz_settings
    draws = random.Random(seed)
    return [
        {
            "user_id": user_id,
            "module_id": version.module_id,
            "version_id": version.id,
            "registration": registrations[user_id],
            "number": 1,
            "started_at": now,
            "deadline": rules.deadline_for(settings, now),
            "state": "open",
            "draw": draw_questions(
                version.questions,
                settings["questions_per_attempt"],
                seed=draws.getrandbits(64),
                balance_topics=settings.get("balance_topics", False),
                shuffle_options=settings.get("shuffle_options", True),
            ),
        }
        for user_id in user_ids
    ]
