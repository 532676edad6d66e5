"""Dashboard fixtures: the catalog's test packages and people, the quiz clock, and
records written straight into the tables (a dashboard only reads them)."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.auth.models import User
from lms.catalog.models import Module
from lms.progress.models import Qualification
from lms.quiz.models import Attempt
from tests.catalog.conftest import as_role, loaded, module_root, sync_modules, world  # noqa: F401
from tests.quiz.conftest import clock  # noqa: F401

_numbers = itertools.count(1)


@pytest.fixture()
def record_attempt(db, clock):  # noqa: F811
    """``record_attempt(learner, "alpha", 0.9, passed=True)``: a submitted attempt, and for
    a pass the qualification it issues (``valid_days`` from ``at``, default now)."""

    def add(learner, module_id, score, *, passed, at=None, valid_days=365):
        at = at or clock.now()
        module = db.session.get(Module, module_id)
        attempt = Attempt(
            user_id=learner.id,
            module_id=module_id,
            version_id=module.current_version_id,
            registration=str(uuid.uuid4()),
            number=next(_numbers),
            started_at=at - timedelta(minutes=10),
            submitted_at=at,
            state="submitted",
            draw=[],
            score_raw=score * 10,
            score_max=10,
            score_scaled=score,
            passed=passed,
        )
        db.session.add(attempt)
        db.session.flush()
        if passed:
            db.session.add(
                Qualification(
                    kind="pass",
                    user_id=learner.id,
                    module_id=module_id,
                    version_id=module.current_version_id,
                    attempt_id=attempt.id,
                    score_scaled=score,
                    issued_at=at,
                    valid_until=at + timedelta(days=valid_days),
                )
            )
        db.session.commit()
        return attempt

    return add


@pytest.fixture()
def many_learners(db):
    """``many_learners(org, 500)``: that many learners, inserted in bulk (one password
    hash for all; they never log in)."""

    def add(org, count, **fields):
        hashed = db.session.scalar(sa.select(User.password_hash).limit(1)) or "x"
        start = next(_numbers) * 10_000
        users = [
            User(
                email=f"bulk{start + n}@example.org",
                display_name=f"Bulk learner {start + n:07d}",
                password_hash=hashed,
                organisation_id=org.id,
                role="learner",
                learner_category=fields.get("learner_category", "worker"),
                sector=fields.get("sector"),
            )
            for n in range(count)
        ]
        db.session.add_all(users)
        db.session.commit()
        return users

    return add


class QueryCounter:
    """Counts the SQL statements sent while in use (``with QueryCounter(engine) as c``)."""

    def __init__(self, engine):
        self.engine = engine
        self.statements: list[str] = []

    def _count(self, _conn, _cursor, statement, *_args):
        self.statements.append(statement)

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_exc):
        sa.event.remove(self.engine, "before_cursor_execute", self._count)

    @property
    def count(self) -> int:
        return len(self.statements)


def page_queries(client, path: str, *, before=None) -> int:
    """The SQL statements of one GET of ``path`` (after a first one that warms the
    templates, translations and the logged-in user's session; ``before`` runs between)."""
    from lms.extensions import db

    client.get(path)
    if before is not None:
        before()
    with QueryCounter(db.engine) as counter:
        response = client.get(path)
    assert response.status_code == 200, path
    return counter.count
