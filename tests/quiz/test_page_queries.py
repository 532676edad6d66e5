"""The quiz overview: a fixed number of queries whatever the learner's attempts and
modules; an attempt left past its deadline is still graded when the learner comes back."""

from __future__ import annotations

import sqlalchemy as sa

from lms.catalog.models import Module
from lms.quiz import services
from lms.quiz.models import Attempt
from tests.catalog.conftest import as_role, loaded, module_root, sync_modules, world  # noqa: F401
from tests.dashboard.conftest import page_queries
from tests.progress.test_qualifications import take


def test_overview_queries_do_not_grow_with_attempts_or_modules(db, loaded, world, as_role, clock):  # noqa: F811
    learner = world["learner"]
    alpha = db.session.get(Module, "alpha")
    take(db, learner, alpha, right=False)
    client = as_role("learner")
    few = page_queries(client, "/modules/alpha/quiz")
    clock.advance(minutes=61)
    take(db, learner, alpha, right=False)
    clock.advance(minutes=61)
    take(db, learner, alpha)
    take(db, learner, db.session.get(Module, "beta"))
    many = page_queries(client, "/modules/alpha/quiz")
    assert many == few


def test_the_overview_grades_an_attempt_left_past_its_deadline(db, loaded, world, as_role, clock):  # noqa: F811
    learner = world["learner"]
    attempt = services.start_attempt(learner, db.session.get(Module, "alpha"))
    db.session.commit()
    public_id = attempt.public_id
    client = as_role("learner")
    client.get("/modules/alpha/quiz")
    db.session.expire_all()
    assert db.session.scalar(sa.select(Attempt.state).where(Attempt.public_id == public_id)) == (
        "open"
    )
    clock.advance(minutes=21)
    html = client.get("/modules/alpha/quiz").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Attempt.state).where(Attempt.public_id == public_id)) == (
        "submitted"
    )
    assert "Failed" in html or "0 %" in html
