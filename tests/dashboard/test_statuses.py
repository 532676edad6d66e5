"""The database's module statuses (``statuses``) agree with the reference rules of
``cells.module_cell`` for every learner and module, at many moments."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.auth.models import User
from lms.catalog.models import Enrolment, LessonRead, Module
from lms.dashboard import batch, statuses
from lms.dashboard.cells import CELL_STATUSES, module_cell
from lms.demo.generate import generate
from lms.extensions import db
from lms.progress.models import Qualification
from lms.quiz.models import Attempt


def _python(learner_ids, loaded, now) -> dict[tuple[int, str], tuple]:
    records = batch.learner_records(learner_ids)
    found = {}
    for module in loaded.modules:
        settings = module.current_version.quiz_settings
        for learner_id in learner_ids:
            key = (learner_id, module.id)
            if key in records.modules:
                cell = module_cell(records.modules[key], loaded.lessons[module.id], settings, now)
                found[key] = (cell.status, cell.best_score, cell.valid_until)
    return found


def _sql(scope, loaded, now, **options) -> dict[tuple[int, str], tuple]:
    found = statuses.module_statuses(scope, loaded, now, details=True, **options)
    rows = sa.select(
        found.c.user_id, found.c.module_id, found.c.status, found.c.best, found.c.valid_until
    )
    return {(u, m): (s, best, until) for u, m, s, best, until in db.session.execute(rows)}


def _same(python: dict, sql: dict) -> None:
    for key in python.keys() | sql.keys():
        expected = python.get(key, ("not_started", None, None))
        got = sql.get(key, ("not_started", None, None))
        assert got[0] == expected[0], (key, got, expected)
        assert got[2] == expected[2], (key, got, expected)
        if expected[1] is None:
            assert got[1] is None, (key, got, expected)
        else:
            assert got[1] == pytest.approx(expected[1]), (key, got, expected)


@pytest.fixture()
def scenarios(db, world, loaded, record_attempt, clock):
    """Learners of Acme in every corner of the rules, in the test package alpha (at most
    3 attempts, 60 minutes of cooldown, two lessons) and beta."""
    org = world["learner"].organisation
    now = clock.now()
    people = {}

    def learner(name):
        user = User(
            email=f"{name}@example.org",
            display_name=name,
            password_hash="x",
            organisation_id=org.id,
            role="learner",
            learner_category="worker",
        )
        db.session.add(user)
        db.session.flush()
        people[name] = user
        return user

    def enrol(user, module_id, *slugs):
        module = db.session.get(Module, module_id)
        db.session.add(Enrolment(user_id=user.id, module_id=module_id))
        for slug in slugs:
            db.session.add(
                LessonRead(
                    user_id=user.id,
                    module_id=module_id,
                    version_id=module.current_version_id,
                    lesson_slug=slug,
                )
            )
        db.session.flush()

    record_attempt(learner("cooling"), "alpha", 0.2, passed=False, at=now - timedelta(minutes=10))
    record_attempt(learner("failed"), "alpha", 0.2, passed=False, at=now - timedelta(hours=2))
    three = learner("three")
    for hours in (4, 3, 2):
        record_attempt(three, "alpha", 0.1, passed=False, at=now - timedelta(hours=hours))
    recovered = learner("recovered")
    record_attempt(recovered, "alpha", 0.2, passed=False, at=now - timedelta(days=3))
    record_attempt(recovered, "alpha", 0.95, passed=True, at=now - timedelta(days=2))
    lapsed = learner("lapsed")
    record_attempt(lapsed, "alpha", 0.9, passed=True, at=now - timedelta(days=500))
    record_attempt(lapsed, "alpha", 0.3, passed=False, at=now - timedelta(hours=5))
    record_attempt(learner("expired"), "alpha", 0.85, passed=True, at=now - timedelta(days=400))
    record_attempt(learner("expiring"), "alpha", 0.85, passed=True, valid_days=10)
    retrying = learner("retrying")
    record_attempt(retrying, "alpha", 0.2, passed=False, at=now - timedelta(hours=3))
    db.session.add(
        Attempt(
            user_id=retrying.id,
            module_id="alpha",
            version_id=db.session.get(Module, "alpha").current_version_id,
            registration=str(uuid.uuid4()),
            number=99,
            started_at=now - timedelta(minutes=2),
            state="open",
            draw=[],
        )
    )
    enrol(learner("enrolled"), "alpha")
    enrol(learner("reader"), "alpha", "first", "second")
    enrol(learner("halfway"), "beta", "first")
    db.session.add(
        LessonRead(
            user_id=learner("stray").id,
            module_id="alpha",
            version_id=db.session.get(Module, "alpha").current_version_id,
            lesson_slug="gone",
        )
    )
    withdrawn = learner("withdrawn")
    record_attempt(withdrawn, "alpha", 0.9, passed=True, at=now - timedelta(days=20))
    original = db.session.scalar(
        sa.select(Qualification).where(Qualification.user_id == withdrawn.id)
    )
    db.session.add(
        Qualification(
            kind="correction",
            user_id=withdrawn.id,
            module_id="alpha",
            version_id=original.version_id,
            attempt_id=original.attempt_id,
            score_scaled=original.score_scaled,
            issued_at=original.issued_at,
            valid_until=original.issued_at,
            corrects_id=original.id,
            reason="Withdrawn after review.",
        )
    )
    db.session.commit()
    return people


EXPECTED = {
    "cooling": "locked",
    "failed": "failed",
    "three": "locked",
    "recovered": "passed",
    "lapsed": "failed",
    "expired": "expired",
    "expiring": "expiring",
    "retrying": "in_progress",
    "enrolled": "in_progress",
    "reader": "completed",
    "withdrawn": "expired",
}


def test_every_corner_of_the_rules(db, scenarios, clock):
    loaded = batch.columns()
    ids = [user.id for user in scenarios.values()]
    scope = sa.select(User.id).where(User.id.in_(ids))
    python, sql = _python(ids, loaded, clock.now()), _sql(scope, loaded, clock.now())
    _same(python, sql)
    for name, status in EXPECTED.items():
        assert sql[(scenarios[name].id, "alpha")][0] == status, name
    assert sql[(scenarios["halfway"].id, "beta")][0] == "in_progress"
    assert sql.get((scenarios["stray"].id, "alpha"), ("not_started",))[0] == "not_started"


@pytest.mark.parametrize(
    "shift", [timedelta(0), timedelta(minutes=55), timedelta(days=9), timedelta(days=400)]
)
def test_the_database_agrees_with_the_rules_on_demo_data(db, scenarios, clock, shift):
    generate(
        learners=40, modules=5, seed=5, months=12, now=clock.now(), password_hash="x", append=True
    )
    db.session.flush()
    loaded = batch.columns()
    ids = list(db.session.scalars(sa.select(User.id).where(User.role == "learner")))
    scope = sa.select(User.id).where(User.role == "learner")
    moments = [clock.now() + shift]
    failures = db.session.scalars(
        sa.select(Attempt.submitted_at)
        .where(Attempt.passed.is_(False))
        .order_by(Attempt.id)
        .limit(3)
    )
    moments += [at + timedelta(minutes=1) for at in failures]
    for now in moments:
        python = _python(ids, loaded, now)
        _same(python, _sql(scope, loaded, now))
        results = _sql(scope, loaded, now, results_only=True)
        for status in CELL_STATUSES:
            expected = {key[0] for key, value in python.items() if value[0] == status}
            if status == "not_started":
                started = Counter(k[0] for k, v in python.items() if v[0] != "not_started")
                complete = {u for u in ids if started[u] == len(loaded.modules)}
                assert statuses.fully_started(scope, loaded, now) == complete
                continue
            found = set(db.session.scalars(statuses.learners_with(scope, loaded, now, status)))
            assert found == expected, status
            if status in statuses.NEEDS_RESULTS:
                assert {k[0] for k, v in results.items() if v[0] == status} == expected, status
