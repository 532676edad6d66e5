"""Throughput of the lesson pages against a bare Flask page of one row, in one run.

    .venv/bin/python bench/lesson_pages.py [--requests 3000] [--rounds 5] [--write]

On a fresh PostgreSQL database (created and dropped here; schema by ``flask db upgrade
heads``, modules synced from ``modules/``), learners enrolled in GMP fundamentals read
its lessons: ``GET /modules/gmp-fundamentals/lessons/<slug>`` with their session
cookies, every lesson in turn. The baseline is a bare Flask app (``bench/_common.py``)
rendering one row of a table of the same database. Both are served by gunicorn with
gunicorn.conf.py (Dockerfile's worker count), loaded by ``wrk`` with the same number of
requests and connections, alternating; each figure is the median of ``--rounds`` runs.
Goal (issue 4): lesson pages at least 0.7 of the baseline's throughput.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _common as common  # noqa: E402

GOAL = 0.7


def lesson_load(app, world: common.World, learners: int) -> common.Load:
    """Every lesson of the module, for each of ``learners`` learners, shuffled."""
    from lms.auth.models import User
    from lms.catalog import queries, services
    from lms.extensions import db

    lines = []
    with app.app_context():
        module = services.find_module(world.module_id)
        slugs = [entry.slug for entry in queries.lesson_outline(module.current_version_id)]
        for user_id in world.learner_ids[:learners]:
            cookie, _token = common.session_cookie(app, db.session.get(User, user_id))
            path = f"/modules/{world.module_id}/lessons/"
            lines += [("GET", path + slug, cookie, "") for slug in slugs]
    random.Random(4).shuffle(lines)
    return common.Load(lines, expect=200)


def baseline_load() -> common.Load:
    return common.Load([("GET", f"/rows/{i}", "", "") for i in range(1, 101)], expect=200)


def measure(args) -> dict:
    with common.fresh_database("lms_bench") as url:
        common.prepare_database(url)
        app = common.application(url)
        world = common.seed_learners(app, args.learners)
        subject = lesson_load(app, world, args.learners)
        with app.app_context():
            from lms.extensions import db

            db.engine.dispose()
        baseline = baseline_load()
        runs = {"baseline": [], "lessons": []}
        print("seeded; waiting for the benchmark lock", flush=True)
        with (
            common.bench_lock(),
            common.gunicorn("bench._common:baseline_app()", url) as base_url,
            common.gunicorn("wsgi:app", url) as lms_url,
        ):
            print("servers up; measuring", flush=True)
            common.load(base_url, baseline, args.warmup, args.connections)
            common.load(lms_url, subject, args.warmup, args.connections)
            for round_number in range(args.rounds):
                runs["baseline"].append(
                    common.load(base_url, baseline, args.requests, args.connections)
                )
                runs["lessons"].append(
                    common.load(lms_url, subject, args.requests, args.connections)
                )
                print(
                    f"round {round_number + 1}: baseline {runs['baseline'][-1].rate:,.0f}/s, "
                    f"lessons {runs['lessons'][-1].rate:,.0f}/s",
                    flush=True,
                )
    base, lessons = common.median_run(runs["baseline"]), common.median_run(runs["lessons"])
    return {"base": base, "lessons": lessons, "ratio": lessons.rate / base.rate, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per measured run")
    parser.add_argument("--warmup", type=int, default=600, help="requests to warm each server")
    parser.add_argument("--rounds", type=int, default=5, help="median of this many runs")
    parser.add_argument("--connections", type=int, default=common.WORKERS * 2)
    parser.add_argument("--learners", type=int, default=50)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    result = measure(args)
    table = common.results_table("lesson page", result["base"], result["lessons"], result["ratio"])
    print(table)
    print(
        f"spread: baseline {common.spread(result['runs']['baseline'])}, "
        f"lessons {common.spread(result['runs']['lessons'])}"
    )
    verdict = "reached" if result["ratio"] >= GOAL else "not reached"
    print(f"goal {GOAL}: {verdict}")
    if args.write:
        common.write_block("lesson-bench", table)


if __name__ == "__main__":
    main()
