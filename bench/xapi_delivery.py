"""Throughput of the xAPI delivery worker against a plain HTTP client, in one run.

    .venv/bin/python bench/xapi_delivery.py [--statements 20000] [--batch-size 100]
        [--database-url postgresql://...] [--write]

A local LRS (a separate process, HTTP/1.1 keep-alive) accepts every POST at once. The
baseline POSTs the same pre-serialised batches with a ``requests.Session``, nothing
else; the worker claims them from the database, sends them and records the outcome.
Each round queues every delivery again, then runs the baseline and the worker one
after the other; a first round warms up and is not counted. The ratio of the median
times (baseline/worker) is the figure of merit (goal: at least 0.8); the range of the
rounds' own ratios shows the noise. ``--write`` puts the results into docs/performance.md.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import statistics
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lms import create_app  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.xapi.models import Statement, StatementDelivery  # noqa: E402
from lms.xapi.worker import Worker  # noqa: E402
from tests.conftest import reset_schema, test_config  # noqa: E402
from tests.xapi.conftest import make_world, seed_statements  # noqa: E402

DOC = ROOT / "docs" / "performance.md"
BEGIN, END = "<!-- xapi-bench:begin -->", "<!-- xapi-bench:end -->"


class InstantLrs(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self):  # noqa: N802 (the http.server naming)
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, *args):
        pass


def serve(port_queue) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), InstantLrs)
    port_queue.put(server.server_port)
    server.serve_forever()


def baseline(url: str, batches: list[bytes]) -> float:
    """Seconds a plain requests.Session takes to POST ``batches`` one after another."""
    session = requests.Session()
    headers = {"X-Experience-API-Version": "1.0.3", "Content-Type": "application/json"}
    started = time.perf_counter()
    for body in batches:
        response = session.post(url, data=body, headers=headers, auth=("k", "s"), timeout=10)
        response.raise_for_status()
    elapsed = time.perf_counter() - started
    session.close()
    return elapsed


def reset_deliveries() -> None:
    """Queue every delivery again; on PostgreSQL, vacuum away the old row versions.

    Without the VACUUM each round would start from a table holding one more dead copy
    of every row (autovacuum does not keep up with whole-table rewrites a second apart),
    and later rounds would be slower than any real queue.
    """
    db.session.execute(
        sa.update(StatementDelivery).values(
            state="pending",
            attempts=0,
            claim=None,
            lease_until=None,
            delivered_at=None,
            response=None,
        )
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE xapi_delivery"
            )


def run(args) -> dict:
    queue = multiprocessing.Queue()
    lrs = multiprocessing.Process(target=serve, args=(queue,), daemon=True)
    lrs.start()
    lrs_url = f"http://127.0.0.1:{queue.get(timeout=10)}/xapi/"
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app(test_config(url, XAPI_POLL_INTERVAL=0.01))
        reset_schema(app)
        with app.app_context():
            world = make_world(lrs_url, batch_size=args.batch_size, key="k", secret="s")  # noqa: S106
            seed_statements(world, args.statements)
            bodies = [
                b.encode()
                for b in db.session.scalars(sa.select(Statement.body).order_by(Statement.id))
            ]
            db.session.commit()
            batches = [
                b"[" + b",".join(bodies[i : i + args.batch_size]) + b"]"
                for i in range(0, len(bodies), args.batch_size)
            ]
            results = {"baseline": [], "worker": []}
            # Round 0 warms both up (imports, caches, the LRS's threads) and is not counted.
            for round_ in range(args.rounds + 1):
                reset_deliveries()
                base = baseline(lrs_url + "statements", batches)
                started = time.perf_counter()
                Worker(app).run(once=True)
                elapsed = time.perf_counter() - started
                delivered = db.session.scalar(
                    sa.select(sa.func.count()).where(StatementDelivery.state == "delivered")
                )
                db.session.commit()
                assert delivered == args.statements, delivered
                if round_:
                    results["baseline"].append(base)
                    results["worker"].append(elapsed)
            backend = db.engine.dialect.name
        with app.app_context():
            db.engine.dispose()
    lrs.terminate()
    base, worker = statistics.median(results["baseline"]), statistics.median(results["worker"])
    ratios = sorted(b / w for b, w in zip(results["baseline"], results["worker"], strict=True))
    return {
        "backend": backend,
        "statements": args.statements,
        "batch_size": args.batch_size,
        "baseline_rate": args.statements / base,
        "worker_rate": args.statements / worker,
        "ratio": base / worker,
        "range": (ratios[0], ratios[-1]),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| database | statements | batch size | baseline (statements/s) "
        "| worker (statements/s) | ratio | ratio range |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        low, high = r["range"]
        lines.append(
            f"| {r['backend']} | {r['statements']} | {r['batch_size']} | {r['baseline_rate']:,.0f} "
            f"| {r['worker_rate']:,.0f} | {r['ratio']:.2f} | {low:.2f}–{high:.2f} |"
        )
    return "\n".join(lines)


def write(rows: list[dict]) -> None:
    text = DOC.read_text()
    block = f"{BEGIN}\n{table(rows)}\n{END}"
    DOC.write_text(re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), block, text, flags=re.S))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--statements", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--rounds", type=int, default=5, help="median of this many runs (after a warm-up)"
    )
    parser.add_argument(
        "--database-url",
        action="append",
        default=None,
        help="a database to run on (repeatable); default: a SQLite file",
    )
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    rows = []
    for url in args.database_url or [None]:
        rows.append(run(argparse.Namespace(**{**vars(args), "database_url": url})))
        print(table(rows[-1:]), flush=True)
    if args.write:
        write(rows)


if __name__ == "__main__":
    main()
