"""Throughput of quiz submission against a bare Flask insert of one row, in one run.

    .venv/bin/python bench/quiz_submission.py [--requests 300] [--rounds 5] [--write]

On a fresh PostgreSQL database (created and dropped here; schema by ``flask db upgrade
heads``, modules synced from ``modules/``, an enabled LRS endpoint so that statements
queue deliveries), learners who have read every lesson of GMP fundamentals each hold
an open attempt of 15 questions. A submission is the attempt page's POST with the 15
answers (all right) and ``action=submit``: saving the answers, grading, 17 statements
through the outbox (15 answered, passed, completed), the qualification and its audit
record, one commit. Every request submits a different attempt. The baseline is a bare
Flask app (``bench/_common.py``) whose POST inserts one row in the same database and
commits. Both are served by gunicorn with gunicorn.conf.py (Dockerfile's worker count)
and loaded by ``wrk``, alternating; each figure is the median of ``--rounds`` runs.
Goal (issue 5): submissions at least 0.5 of the baseline's throughput.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _common as common  # noqa: E402

GOAL = 0.5


def seed_attempts(app, world: common.World) -> list[tuple[str, str, str, str]]:
    """Every learner reads every lesson and starts an attempt; the submitting requests."""
    import sqlalchemy as sa

    from lms.auth.models import User
    from lms.catalog import services as catalog
    from lms.catalog.models import Enrolment, LessonRead
    from lms.db_types import utcnow
    from lms.extensions import db
    from lms.quiz.models import Attempt
    from tests.quiz.helpers import attempt_form

    with app.app_context():
        module = catalog.find_module(world.module_id)
        version = module.current_version
        now = utcnow()
        db.session.execute(
            sa.insert(LessonRead),
            [
                {
                    "user_id": user_id,
                    "module_id": module.id,
                    "version_id": version.id,
                    "lesson_slug": lesson.slug,
                    "read_at": now,
                }
                for user_id in world.learner_ids
                for lesson in version.lessons
            ],
        )
        registrations = dict(
            db.session.execute(
                sa.select(Enrolment.user_id, Enrolment.registration).where(
                    Enrolment.module_id == module.id
                )
            ).all()
        )
        rows = common.open_attempt_rows(version, registrations, world.learner_ids, now, seed=5)
        db.session.execute(sa.insert(Attempt), rows)
        db.session.commit()
        bank = {question["id"]: question for question in version.questions}
        lines = []
        attempts = db.session.scalars(sa.select(Attempt).order_by(Attempt.id))
        for attempt in attempts:
            cookie, token = common.session_cookie(app, db.session.get(User, attempt.user_id))
            form = attempt_form([bank[entry["id"]] for entry in attempt.draw])
            form.update({"csrf_token": token, "action": "submit"})
            body = urlencode(list(form.items(multi=True)))
            lines.append(("POST", f"/attempts/{attempt.public_id}", cookie, body))
        db.session.commit()
        db.engine.dispose()
    return lines


def baseline_load(count: int) -> common.Load:
    body = urlencode({"name": "Submission", "body": "A row of the baseline. " * 8})
    return common.Load([("POST", "/rows", "", body)] * count, expect=201)


def measure(args) -> dict:
    spare = args.connections * 2
    needed = args.warmup + spare + args.rounds * (args.requests + spare)
    with common.fresh_database("lms_bench") as url:
        common.prepare_database(url)
        app = common.application(url)
        world = common.seed_learners(app, needed)
        lines = seed_attempts(app, world)
        runs = {"baseline": [], "submissions": []}

        def submissions(count: int) -> common.Load:
            taken = [lines.pop() for _ in range(min(count + spare, len(lines)))]
            return common.Load(taken, expect=302, location="/result", cycle=False)

        baseline = baseline_load(100)
        print("seeded; waiting for the benchmark lock", flush=True)
        with (
            common.bench_lock(),
            common.gunicorn("bench._common:baseline_app()", url) as base_url,
            common.gunicorn("wsgi:app", url) as lms_url,
        ):
            print("servers up; measuring", flush=True)
            common.load(base_url, baseline, args.warmup * 5, args.connections)
            common.load(lms_url, submissions(args.warmup), args.warmup, args.connections)
            for round_number in range(args.rounds):
                runs["baseline"].append(
                    common.load(base_url, baseline, args.baseline_requests, args.connections)
                )
                runs["submissions"].append(
                    common.load(
                        lms_url, submissions(args.requests), args.requests, args.connections
                    )
                )
                print(
                    f"round {round_number + 1}: baseline {runs['baseline'][-1].rate:,.0f}/s, "
                    f"submissions {runs['submissions'][-1].rate:,.0f}/s",
                    flush=True,
                )
    base, subject = common.median_run(runs["baseline"]), common.median_run(runs["submissions"])
    return {"base": base, "subject": subject, "ratio": subject.rate / base.rate, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300, help="submissions per run")
    parser.add_argument("--baseline-requests", type=int, default=3000, help="inserts per run")
    parser.add_argument("--warmup", type=int, default=60, help="submissions to warm the server")
    parser.add_argument("--rounds", type=int, default=5, help="median of this many runs")
    parser.add_argument("--connections", type=int, default=common.WORKERS * 2)
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    args = parser.parse_args()
    result = measure(args)
    table = common.results_table(
        "quiz submission", result["base"], result["subject"], result["ratio"]
    )
    print(table)
    print(
        f"spread: baseline {common.spread(result['runs']['baseline'])}, "
        f"submissions {common.spread(result['runs']['submissions'])}"
    )
    print(f"goal {GOAL}: {'reached' if result['ratio'] >= GOAL else 'not reached'}")
    if args.write:
        common.write_block("quiz-bench", table)


if __name__ == "__main__":
    main()
