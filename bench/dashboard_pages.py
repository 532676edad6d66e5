"""Latency of every dashboard page at a large centre's scale, against a bare Flask page.

    .venv/bin/python bench/dashboard_pages.py [--prepare] [--requests 15] [--write]

On a PostgreSQL database filled by ``flask --app wsgi lms demo-data --learners 6000
--modules 130`` (``--prepare`` creates it, default ``lms_scale``, when it does not exist
or holds no learners; it never drops or empties one), every GET page of the
``dashboard`` blueprint (read from the URL map, so new pages are measured as they
land; path parameters get real ids: the busiest learner, the largest cohort, the most
attempted module, the busiest session), with query-string variants (matrix filtered by
cohort and by status, sorted by a module, page 2), is requested by a trainer of the
largest organisation and by a centre admin. The application and the baseline (a bare
Flask page rendering one row of the same database, ``bench/_common.py``) run under
gunicorn with gunicorn.conf.py; one client sends the requests one after the other over
a keep-alive connection (a person opening pages, not a load test), so each figure is a
page's own latency: median and 95th percentile of ``--requests`` requests after
``--warmup``. The number of SQL queries of each page is counted once in process.
Goal (issue "Trainer dashboards"): median under 300 ms for every page, under 1 s for
the centre report.
"""

from __future__ import annotations

import argparse
import http.client
import math
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from bench import _common as common  # noqa: E402

DATABASE = f"{common.PG_SERVER}/lms_scale"
GOAL_MS = 300.0
#: Pages with a goal of their own (the centre report and its export).
GOALS_MS = {"dashboard.centre_report": 1000.0, "dashboard.report_csv": 1000.0}


@dataclass
class Result:
    actor: str
    endpoint: str
    path: str
    status: int
    queries: int
    size: int
    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else math.inf

    @property
    def p95(self) -> float:
        ordered = sorted(self.times) or [math.inf]
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    @property
    def goal(self) -> float:
        return GOALS_MS.get(self.endpoint, GOAL_MS)


# Preparing the database --------------------------------------------------------------


def prepare(url: str, learners: int, modules: int) -> None:
    """Create ``url``'s database if missing, migrate it, and fill it with demo data when
    it has no learners (then VACUUM ANALYZE, as autovacuum would after a while)."""
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(
        common.PG_SERVER.replace("postgresql://", "postgresql+psycopg://", 1) + "/postgres",
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as connection:
        exists = connection.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if not exists:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    common.flask_command(url, "db", "upgrade", "heads")
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        count = connection.scalar(
            sa.text("SELECT count(*) FROM user_account WHERE role = 'learner'")
        )
    if not count:
        print(f"loading {learners} learners and {modules} modules (a few minutes)", flush=True)
        started = time.perf_counter()
        subprocess.run(  # noqa: S603 (our own virtual environment's flask)
            [
                str(Path(sys.executable).parent / "flask"),
                "--app",
                "wsgi",
                "lms",
                "demo-data",
                "--learners",
                str(learners),
                "--modules",
                str(modules),
            ],
            cwd=common.ROOT,
            env=common.app_environment(url),
            check=True,
        )
        print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)
    common.BENCH_TABLE.metadata.create_all(engine)
    with engine.begin() as connection:
        if not connection.scalar(sa.select(sa.func.count()).select_from(common.BENCH_TABLE)):
            connection.execute(
                sa.insert(common.BENCH_TABLE),
                [
                    {"name": f"Row {i}", "body": "A row of the baseline. " * 8}
                    for i in range(1, 101)
                ],
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


# Who asks, and what --------------------------------------------------------------------


def actors(app) -> dict[str, object]:
    """A trainer of the organisation with the most learners, and a centre admin."""
    from lms.auth.models import Organisation, User
    from lms.extensions import db

    with app.app_context():
        largest = db.session.scalar(
            sa.select(User.organisation_id)
            .where(User.role == "learner", User.active.is_(True))
            .group_by(User.organisation_id)
            .order_by(sa.func.count().desc())
            .limit(1)
        )
        trainer = db.session.scalar(
            sa.select(User)
            .where(User.organisation_id == largest, User.role == "trainer")
            .order_by(User.id)
        )
        admin = db.session.scalar(
            sa.select(User)
            .join(Organisation)
            .where(Organisation.is_centre.is_(True), User.role == "admin")
            .order_by(User.id)
        )
        return {"trainer": trainer, "centre admin": admin}


def plan(app, people: dict) -> tuple[list[tuple[str, str, str, str]], list]:
    """(actor, endpoint, path, cookie) of every page to measure; and the pages skipped."""
    from lms.demo.pages import dashboard_pages
    from lms.extensions import db

    lines, skipped = [], []
    for name, user in people.items():
        with app.app_context():
            user = db.session.merge(user)
            cookie, _token = common.session_cookie(app, user)
            pages, missing = dashboard_pages(app, user)
        lines += [(name, page.endpoint, page.path, cookie) for page in pages]
        skipped += [(name, item) for item in missing]
    return lines, skipped


def count_queries(app, lines) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(actor, path) -> (status, queries, bytes) of one request in process (after one
    to warm the caches), each actor in a browser of their own (cookies kept)."""
    from lms.extensions import db

    found, clients = {}, {}
    with app.app_context():
        engine = db.engine
    for actor, _endpoint, path, cookie in lines:
        if actor not in clients:
            clients[actor] = app.test_client()
            name, value = cookie.split("=", 1)
            clients[actor].set_cookie(name, value)
        client = clients[actor]
        headers = {"User-Agent": common.USER_AGENT}
        environ = {"REMOTE_ADDR": "127.0.0.1"}
        client.get(path, headers=headers, environ_base=environ)
        statements = []

        def count(*_args, statements=statements):
            statements.append(1)

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            response = client.get(path, headers=headers, environ_base=environ)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        found[(actor, path)] = (response.status_code, len(statements), len(response.data))
    return found


# Measuring --------------------------------------------------------------------------


class Browser:
    """Cookies of one person's browser: sent with every request, updated by answers
    (an admin's session remembers when it last looked at the delivery health)."""

    def __init__(self, cookie: str = "") -> None:
        self.cookies = dict(part.split("=", 1) for part in cookie.split("; ") if "=" in part)

    @property
    def header(self) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Cookie": cookie, "User-Agent": common.USER_AGENT} if cookie else {}

    def keep(self, answer: http.client.HTTPResponse) -> None:
        for line in answer.msg.get_all("Set-Cookie") or ():
            name, _, value = line.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()


def timed(
    base: str, path: str, browser: Browser, count: int, warmup: int
) -> tuple[int, list[float]]:
    """The status and latencies (ms) of ``count`` GETs of ``path`` one after another on
    one connection (stopped at the first answer that is not 200)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    times = []
    try:
        for number in range(warmup + count):
            started = time.perf_counter()
            connection.request("GET", path, headers=browser.header)
            answer = connection.getresponse()
            answer.read()
            elapsed = (time.perf_counter() - started) * 1000
            browser.keep(answer)
            if answer.status != 200:
                return answer.status, times
            if number >= warmup:
                times.append(elapsed)
    finally:
        connection.close()
    return 200, times


def measure(args) -> tuple[list[Result], list[float], list]:
    if args.prepare:
        prepare(args.database_url, args.learners, args.modules)
    app = common.application(args.database_url)
    lines, skipped = plan(app, actors(app))
    counted = count_queries(app, lines)
    with app.app_context():
        from lms.extensions import db

        db.engine.dispose()
    results = []
    print(f"{len(lines)} pages; waiting for the benchmark lock", flush=True)
    with (
        common.bench_lock(),
        common.gunicorn("bench._common:baseline_app()", args.database_url) as base_url,
        common.gunicorn("wsgi:app", args.database_url) as lms_url,
    ):
        baseline, browsers = [], {}
        for actor, endpoint, path, cookie in lines:
            browser = browsers.setdefault(actor, Browser(cookie))
            baseline += timed(base_url, f"/rows/{len(baseline) % 100 + 1}", Browser(), 3, 1)[1]
            status, times = timed(lms_url, path, browser, args.requests, args.warmup)
            _status, queries, size = counted[(actor, path)]
            results.append(Result(actor, endpoint, path, status, queries, size, times))
            shown = f"{results[-1].median:8.1f} ms" if status == 200 else f"HTTP {status}"
            print(f"{actor:<13} {path[:70]:<70} {shown}", flush=True)
    return results, baseline, skipped


# Report -----------------------------------------------------------------------------


def table(results: list[Result], baseline: list[float]) -> str:
    base = statistics.median(baseline)
    lines = [
        f"Baseline (bare Flask page of one row): median {base:.1f} ms.",
        "",
        "| who | page | median (ms) | p95 (ms) | queries | size (KB) | goal (ms) | met | ratio |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: |",
    ]
    for r in results:
        met = "yes" if r.median < r.goal else "**no**"
        if r.status != 200:
            lines.append(
                f"| {r.actor} | `{_short(r.path)}` | HTTP {r.status} | | {r.queries} | "
                f"| {r.goal:.0f} | **no** | |"
            )
            continue
        lines.append(
            f"| {r.actor} | `{_short(r.path)}` | {r.median:.0f} | {r.p95:.0f} | {r.queries} "
            f"| {r.size / 1024:,.0f} | {r.goal:.0f} | {met} | {base / r.median:.3f} |"
        )
    failed = sum(r.median >= r.goal for r in results)
    lines += ["", f"{len(results) - failed} of {len(results)} pages meet their goal."]
    return "\n".join(lines)


def _short(path: str) -> str:
    """Ids in paths shortened to their first 8 characters, for a readable table."""
    parts = []
    for part in path.split("/"):
        head, dot, tail = part.partition("?")
        if len(head) >= 32 and "-" in head:
            head = head[:8] + "…" + (head[36:] if len(head) > 36 else "")
        parts.append(head + dot + _short_query(tail))
    return "/".join(parts)


def _short_query(query: str) -> str:
    pairs = []
    for pair in query.split("&") if query else []:
        key, _, value = pair.partition("=")
        pairs.append(f"{key}={value[:8]}…" if len(value) >= 32 else pair)
    return "&".join(pairs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DATABASE)
    parser.add_argument("--prepare", action="store_true", help="create and fill it if needed")
    parser.add_argument("--learners", type=int, default=6000)
    parser.add_argument("--modules", type=int, default=130)
    parser.add_argument("--requests", type=int, default=15, help="timed requests per page")
    parser.add_argument("--warmup", type=int, default=2, help="untimed requests per page")
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    results, baseline, skipped = measure(args)
    text = table(results, baseline)
    for actor, item in skipped:
        text += f"\n\nNot measured ({actor}): `{item.rule}` ({item.reason})."
    text += f"\n\nMeasured {time.strftime('%Y-%m-%d')}; {common.machine()}."
    print(text)
    if args.write:
        common.write_block("dashboard-bench", text)


if __name__ == "__main__":
    main()
