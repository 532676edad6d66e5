"""The database restarted under load: requests fail cleanly, recover, leave nothing half-written.

    .venv/bin/python bench/faults/db_restart.py [--clients 8] [--phase-seconds 8]
        [--outage-seconds 5]

A PRIVATE PostgreSQL 15 cluster is created for the run (``initdb`` into a temporary
folder as the ``postgres`` OS user, port 5499, trust authentication) and removed
afterwards; the machine's own server (5432) is never touched. The schema comes from
``flask db upgrade heads``, the modules from ``lms modules sync``; learners are seeded
with an open attempt at GMP fundamentals each. The application is served by gunicorn
with ``gunicorn.conf.py`` (production settings, the Dockerfile's worker count) and a
``flask xapi worker`` delivers to a strict LRS on 127.0.0.1.

Client threads play learners: log in through the form, open a lesson, mark it read,
open their attempt, submit it with every answer, look at the result. A refused step is
tried again after half a second, as a person would reload. Phases:

1. ``steady``: the database up;
2. ``restart``: ``pg_ctl restart -m fast`` (connections killed, server back at once);
3. ``steady-2``;
4. ``outage``: ``pg_ctl stop -m fast``, ``--outage-seconds`` down, ``pg_ctl start``;
5. ``after``.

Printed per phase: answers by status, 500s (must be none) and whether every non-2xx/3xx
answer was the site's 503 page; the time from the database being back to the last
refused request. Then the checks: every submitted attempt has all its answers and its
statements, every lesson read its statement, an attempt left open can be resumed and
submitted, the worker survived and the LRS holds every statement (receipts counted).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import _common as common  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PORT = 5499
DATABASE_URL = f"postgresql://postgres@127.0.0.1:{PORT}/lms"
MODULE = "gmp-fundamentals"
PASSWORD = "correct horse battery"  # noqa: S105 (a throwaway learner of a throwaway cluster)
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
#: Words of the 503 page (lms/core/errors.py), in English.
UNAVAILABLE = "cannot use its database"


# The private cluster -------------------------------------------------------------------


class Cluster:
    """A PostgreSQL cluster of this run only, in a temporary folder, on ``PORT``."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="lms-faults-pg-"))
        self.data = self.folder / "data"
        shutil.chown(self.folder, "postgres", "postgres")

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(PG_BIN / program), *args],
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def create(self) -> None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", PORT)) == 0:
                raise SystemExit(f"port {PORT} is in use: is another run's cluster still up?")
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self.start()

    def _ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", *args)

    def start(self) -> None:
        options = f"-p {PORT} -k {self.folder} -c listen_addresses=127.0.0.1"
        self._ctl("-l", str(self.folder / "postgres.log"), "-o", options, "start")

    def restart(self) -> None:
        self._ctl("-m", "fast", "restart")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


# Seeding ---------------------------------------------------------------------------------


@dataclass
class Learner:
    email: str
    attempt: str
    #: The attempt's answers, all right (form fields without the CSRF token).
    answers: list[tuple[str, str]]


def seed(learners: int, lrs_url: str) -> tuple[list[Learner], str]:
    """Learners with an open attempt each, and an enabled endpoint to ``lrs_url``.

    Every lesson but the first is already read (bulk rows): the clients read the first.
    Returns the learners and the first lesson's slug.
    """

    import sqlalchemy as sa

    from lms.auth import services as accounts
    from lms.auth.models import User
    from lms.catalog import services as catalog
    from lms.catalog.models import LessonRead
    from lms.db_types import utcnow
    from lms.extensions import db
    from lms.quiz.models import Attempt
    from lms.xapi import services as xapi
    from tests.quiz.helpers import attempt_form
    from tests.xapi.lrs import KEY, SECRET

    app = common.application(DATABASE_URL)
    with app.app_context():
        centre = accounts.create_organisation(name="Centre", slug="centre", is_centre=True)
        company = accounts.create_organisation(name="Acme Pharma", slug="acme")
        xapi.create_endpoint(organisation=centre, name="LRS", url=lrs_url, key=KEY, secret=SECRET)
        first = accounts.create_user(
            email="learner0@example.org",
            display_name="Learner 0",
            password=PASSWORD,
            organisation=company,
            learner_category="worker",
        )
        db.session.execute(
            sa.insert(User),
            [
                {
                    "email": f"learner{i}@example.org",
                    "display_name": f"Learner {i}",
                    "password_hash": first.password_hash,
                    "organisation_id": company.id,
                    "role": "learner",
                    "learner_category": "worker",
                }
                for i in range(1, learners)
            ],
        )
        module = catalog.find_module(MODULE)
        version = module.current_version
        users = list(db.session.scalars(sa.select(User).order_by(User.id)))
        enrolments = {user.id: catalog.open_module(user, module) for user in users}
        now = utcnow()
        db.session.execute(
            sa.insert(LessonRead),
            [
                {
                    "user_id": user.id,
                    "module_id": module.id,
                    "version_id": version.id,
                    "lesson_slug": lesson.slug,
                    "read_at": now,
                }
                for user in users
                for lesson in version.lessons[1:]
            ],
        )
        registrations = {user.id: enrolments[user.id].registration for user in users}
        db.session.execute(
            sa.insert(Attempt),
            common.open_attempt_rows(version, registrations, [u.id for u in users], now, seed=8),
        )
        db.session.commit()
        bank = {question["id"]: question for question in version.questions}
        emails = {user.id: user.email for user in users}
        seeded = [
            Learner(
                emails[attempt.user_id],
                attempt.public_id,
                list(attempt_form([bank[e["id"]] for e in attempt.draw]).items(multi=True)),
            )
            for attempt in db.session.scalars(sa.select(Attempt).order_by(Attempt.id))
        ]
        slug = version.lessons[0].slug
        db.session.commit()
        db.engine.dispose()
    return seeded, slug


# Processes ---------------------------------------------------------------------------------


def environment(**extra: str) -> dict[str, str]:
    return common.app_environment(
        DATABASE_URL,
        # Plain HTTP on 127.0.0.1: the session cookie must come back without TLS.
        LMS_SESSION_COOKIE_SECURE="false",
        # Every client logs in from 127.0.0.1.
        LMS_LOGIN_ADDRESS_LIMIT="100000 per minute",
        **extra,
    )


@contextlib.contextmanager
def served(folder: Path):
    """gunicorn (gunicorn.conf.py) and one delivery worker; yields the base URL."""
    port = common.free_port()
    env = environment(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS=str(common.WORKERS))
    bin_dir = Path(sys.executable).parent
    with (
        open(folder / "gunicorn.log", "w") as web_log,
        open(folder / "worker.log", "w") as worker_log,
    ):
        web = subprocess.Popen(
            [str(bin_dir / "gunicorn"), "--config", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=web_log,
            stderr=subprocess.STDOUT,
        )
        worker = subprocess.Popen(
            [str(bin_dir / "flask"), "--app", "wsgi", "xapi", "worker"],
            cwd=ROOT,
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            common._wait_until_up(base, web)
            yield base, worker
        finally:
            for process in (web, worker):
                process.terminate()
            for process in (web, worker):
                try:
                    process.wait(timeout=40)
                except subprocess.TimeoutExpired:
                    process.kill()


# The learners ------------------------------------------------------------------------------


@dataclass
class Sample:
    phase: str
    step: str
    started: float
    ended: float
    status: int | str
    #: A 4xx/5xx answer that is the site's 503 page (True), another page (False).
    clean: bool | None = None


@dataclass
class Timeline:
    phase: str = "setup"
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    marks: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, sample: Sample, body: str = "") -> None:
        with self.lock:
            self.samples.append(sample)
            if sample.status == 500 or sample.clean is False:
                self.failures.append(f"{sample.step} {sample.status}: {body[:300]!r}")


class Client:
    """One person at a browser, going through learners one after another."""

    def __init__(self, base: str, timeline: Timeline, slug: str):
        self.base, self.timeline, self.slug = base, timeline, slug

    def request(self, browser, step, method, path, expect, **kwargs):
        """Send until the answer is ``expect`` (or the run stops); returns the answer."""
        while True:
            started = time.monotonic()
            try:
                answer = browser.request(
                    method, self.base + path, allow_redirects=False, timeout=30, **kwargs
                )
                status, body = answer.status_code, answer.text
            except requests.RequestException as error:
                answer, status, body = None, type(error).__name__, ""
            clean = None
            if status != expect:
                clean = status == 503 and UNAVAILABLE in body and "Retry-After" in answer.headers
            # Counted in the phase when the answer came (a refusal comes from the fault).
            phase = self.timeline.phase
            self.timeline.add(Sample(phase, step, started, time.monotonic(), status, clean), body)
            if status == expect or self.timeline.phase == "done":
                return answer
            time.sleep(0.5)

    def token(self, answer) -> str:
        return TOKEN.search(answer.text).group(1)

    def play(self, learner: Learner) -> bool:
        """The learner's whole visit; False if the run stopped before its end."""
        browser = requests.Session()
        browser.headers["User-Agent"] = "lms-faults-bench"
        lesson = f"/modules/{MODULE}/lessons/{self.slug}"
        attempt = f"/attempts/{learner.attempt}"
        steps = [
            ("login page", "GET", "/login", 200, None),
            (
                "log in",
                "POST",
                "/login",
                302,
                lambda t: {"email": learner.email, "password": PASSWORD, "csrf_token": t},
            ),
            ("lesson", "GET", lesson, 200, None),
            ("mark read", "POST", lesson + "/read", 302, lambda t: {"csrf_token": t}),
            ("attempt", "GET", attempt, 200, None),
            (
                "submit",
                "POST",
                attempt,
                302,
                lambda t: urlencode([*learner.answers, ("csrf_token", t), ("action", "submit")]),
            ),
            ("result", "GET", attempt + "/result", 200, None),
        ]
        token = ""
        for step, method, path, expect, body in steps:
            kwargs = {}
            if body is not None:
                data = body(token)
                kwargs["data"] = data
                if isinstance(data, str):
                    kwargs["headers"] = {"Content-Type": "application/x-www-form-urlencoded"}
            answer = self.request(browser, step, method, path, expect, **kwargs)
            if answer is None or answer.status_code != expect:
                return False
            if method == "GET" and step != "result":
                token = self.token(answer)
        return True


def drive(base: str, learners: list[Learner], slug: str, clients: int, args, cluster: Cluster):
    timeline = Timeline()
    queue = iter(learners)
    queue_lock = threading.Lock()
    finished: list[str] = []

    def run() -> None:
        client = Client(base, timeline, slug)
        while timeline.phase != "done":
            with queue_lock:
                learner = next(queue, None)
            if learner is None:
                return
            if client.play(learner):
                finished.append(learner.attempt)

    threads = [threading.Thread(target=run, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()

    def phase(name: str, seconds: float) -> None:
        timeline.phase = name
        timeline.marks[name] = time.monotonic()
        print(f"{time.strftime('%H:%M:%S')} phase {name}", flush=True)
        time.sleep(seconds)

    phase("steady", args.phase_seconds)
    timeline.phase = "restart"
    timeline.marks["restart"] = timeline.marks["down:restart"] = time.monotonic()
    cluster.restart()
    timeline.marks["back:restart"] = time.monotonic()
    print(f"{time.strftime('%H:%M:%S')} restarted", flush=True)
    time.sleep(args.phase_seconds)
    phase("steady-2", args.phase_seconds)
    timeline.phase = "outage"
    timeline.marks["outage"] = timeline.marks["down:outage"] = time.monotonic()
    cluster.stop()
    time.sleep(args.outage_seconds)
    cluster.start()
    timeline.marks["back:outage"] = time.monotonic()
    print(f"{time.strftime('%H:%M:%S')} started again", flush=True)
    time.sleep(args.phase_seconds)
    phase("after", args.phase_seconds)
    timeline.phase = "done"
    for thread in threads:
        thread.join(60)
    return timeline, finished


# Report and checks --------------------------------------------------------------------------


PHASES = ["steady", "restart", "steady-2", "outage", "after"]


def report(timeline: Timeline) -> dict:
    by_phase = {}
    for name in PHASES:
        samples = [s for s in timeline.samples if s.phase == name]
        statuses = collections.Counter(str(s.status) for s in samples)
        refused = [s for s in samples if s.clean is not None]
        by_phase[name] = {
            "requests": len(samples),
            "statuses": dict(sorted(statuses.items())),
            "500": statuses.get("500", 0),
            "refused": len(refused),
            "refused_clean": sum(1 for s in refused if s.clean),
        }
    for name, following in (("restart", "steady-2"), ("outage", "after")):
        down, back = timeline.marks[f"down:{name}"], timeline.marks[f"back:{name}"]
        end = timeline.marks[following]
        refused = [
            s
            for s in timeline.samples
            if s.clean is not None and s.ended >= down and s.started < end
        ]
        last = max((s.ended for s in refused), default=back)
        later_ok = [s.ended for s in timeline.samples if s.started >= back and s.clean is None]
        by_phase[name].update(
            {
                "db_down_s": round(back - down, 2),
                "refused_while_down": sum(1 for s in refused if s.started <= back),
                "refused_after_back": sum(1 for s in refused if s.started > back),
                "last_refusal_after_back_s": round(max(0.0, last - back), 2),
                "first_success_after_back_s": round(min(later_ok, default=back) - back, 2),
            }
        )
    return by_phase


def check_records(learners: list[Learner], slug: str) -> dict:
    """What the database holds after the run: nothing half-written."""
    import sqlalchemy as sa

    engine = sa.create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    query = """
        SELECT a.public_id, a.state, json_array_length(a.draw::json) AS drawn,
          (SELECT count(*) FROM quiz_attempt_answer x WHERE x.attempt_id = a.id) AS answers,
          (SELECT count(*) FROM xapi_statement s WHERE s.user_id = a.user_id
             AND s.kind = 'question.answered') AS answered,
          (SELECT count(*) FROM xapi_statement s WHERE s.user_id = a.user_id
             AND s.kind IN ('attempt.passed', 'attempt.failed')) AS finished,
          (SELECT count(*) FROM catalog_lesson_read r WHERE r.user_id = a.user_id
             AND r.lesson_slug = :slug) AS reads,
          (SELECT count(*) FROM xapi_statement s WHERE s.user_id = a.user_id
             AND s.kind = 'lesson.experienced') AS experienced
        FROM quiz_attempt a
    """
    with engine.connect() as connection:
        rows = connection.execute(sa.text(query), {"slug": slug}).all()
        statements = connection.execute(sa.text("SELECT count(*) FROM xapi_statement")).scalar()
    engine.dispose()
    submitted = [r for r in rows if r.state == "submitted"]
    return {
        "attempts": len(rows),
        "submitted": len(submitted),
        "open": sum(1 for r in rows if r.state == "open"),
        "submitted_incomplete": [
            r.public_id
            for r in submitted
            if not (r.answers == r.drawn == r.answered and r.finished == 1)
        ],
        "open_with_statements": [
            r.public_id for r in rows if r.state == "open" and (r.answered or r.finished)
        ],
        "reads_without_statement": [r.public_id for r in rows if r.reads != r.experienced],
        "statements": statements,
    }


def resume_open(base: str, learners: list[Learner], slug: str, finished: list[str]) -> dict:
    """Learners whose visit the run cut short come back and finish it."""
    done = set(finished)
    left = [learner for learner in learners if learner.attempt not in done]
    timeline = Timeline(phase="resume")
    client = Client(base, timeline, slug)
    results = collections.Counter()
    for learner in left[:20]:
        results["completed" if client.play(learner) else "stuck"] += 1
    results["refused"] = sum(1 for s in timeline.samples if s.clean is not None)
    return dict(results)


def delivery(lrs, seconds: float = 120) -> dict:
    import sqlalchemy as sa

    engine = sa.create_engine(DATABASE_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    deadline = time.monotonic() + seconds
    while True:
        with engine.connect() as connection:
            states = dict(
                connection.execute(
                    sa.text("SELECT state, count(*) FROM xapi_delivery GROUP BY state")
                ).all()
            )
            uuids = set(connection.scalars(sa.text("SELECT uuid FROM xapi_statement")))
        if set(states) <= {"delivered"} or time.monotonic() > deadline:
            break
        time.sleep(1)
    engine.dispose()
    held = set(lrs.statements)
    return {
        "deliveries": states,
        "statements": len(uuids),
        "missing_at_lrs": len(uuids - held),
        "unknown_at_lrs": len(held - uuids),
        "received_more_than_once": len(lrs.repeated()),
        "lrs_problems": len(lrs.problems),
    }


def log_counts(folder: Path) -> dict:
    web = (folder / "gunicorn.log").read_text(errors="replace")
    worker = (folder / "worker.log").read_text(errors="replace")
    return {
        "gunicorn_tracebacks": web.count("Traceback"),
        "gunicorn_503_warnings": web.count("database unavailable on"),
        "gunicorn_worker_timeouts": web.count("WORKER TIMEOUT"),
        "worker_tracebacks": worker.count("Traceback"),
        "worker_database_errors": worker.count("database error; trying again shortly"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="learners at once")
    parser.add_argument("--learners", type=int, default=600, help="learners seeded")
    parser.add_argument("--phase-seconds", type=float, default=8.0)
    parser.add_argument("--outage-seconds", type=float, default=5.0)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()

    from tests.xapi.lrs import FakeLrs, LrsServer

    cluster = Cluster()
    logs = Path(tempfile.mkdtemp(prefix="lms-faults-logs-"))
    print(f"logs (gunicorn, worker, PostgreSQL) in {logs}", flush=True)
    lrs = LrsServer(FakeLrs()).start()
    try:
        cluster.create()
        _create_database()
        common.flask_command(DATABASE_URL, "db", "upgrade", "heads")
        common.flask_command(DATABASE_URL, "lms", "modules", "sync")
        learners, slug = seed(args.learners, lrs.url)
        print(f"seeded {len(learners)} learners; waiting for the benchmark lock", flush=True)
        with common.bench_lock(), served(logs) as (base, worker):
            timeline, finished = drive(base, learners, slug, args.clients, args, cluster)
            phases = report(timeline)
            resumed = resume_open(base, learners, slug, finished)
            records = check_records(learners, slug)
            delivered = delivery(lrs.lrs)
            worker_alive = worker.poll() is None
        results = {
            "phases": phases,
            "visits_completed": len(finished),
            "resumed": resumed,
            "records": records,
            "delivery": delivered,
            "worker_alive_at_the_end": worker_alive,
            "logs": log_counts(logs),
            "unclean_answers": timeline.failures[:10],
        }
    finally:
        lrs.stop()
        with contextlib.suppress(OSError):
            shutil.copy(cluster.folder / "postgres.log", logs / "postgres.log")
        cluster.remove()
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    bad = (
        sum(p["500"] for p in phases.values())
        + sum(p["refused"] - p["refused_clean"] for p in phases.values())
        + len(records["submitted_incomplete"])
        + len(records["open_with_statements"])
        + len(records["reads_without_statement"])
        + delivered["missing_at_lrs"]
        + (0 if worker_alive else 1)
    )
    print("verdict:", "clean" if bad == 0 else f"{bad} problems")
    sys.exit(0 if bad == 0 else 1)


def _create_database() -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{PORT}/postgres", isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.exec_driver_sql('CREATE DATABASE "lms"')
    admin.dispose()


if __name__ == "__main__":
    main()
