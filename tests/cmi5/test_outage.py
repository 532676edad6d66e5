"""The LMS's LRS down or refusing: statements kept, in order, and the learner told."""

from __future__ import annotations

import sqlalchemy as sa

from lms.cmi5.models import Cmi5Statement
from tests.cmi5.checks import assert_conformant


def pending(db) -> list[str]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(Cmi5Statement.verb)
            .where(Cmi5Statement.state == "pending")
            .order_by(Cmi5Statement.id)
        )
    )


def test_statements_wait_while_the_lrs_is_down_and_go_in_order_when_it_is_back(
    app, db, lms, launched, monkeypatch
):
    launch = lms.launch("alpha")
    learner = launched(launch)
    lms.down = True
    learner.read_all_lessons("alpha")
    result = learner.take_quiz("alpha", right=True).get_data(as_text=True)
    assert "Your learning platform could not be reached" in result
    assert pending(db) == ["passed", "completed"]
    page = learner.session_page().get_data(as_text=True)
    assert "2 records wait to be sent to your learning platform" in page

    left = learner.exit()
    assert left.status_code == 200
    text = left.get_data(as_text=True)
    assert "Your learning platform could not be reached: 3 records" in text
    assert "https://lms.example.org/courses/7" in text
    assert pending(db) == ["passed", "completed", "terminated"]
    assert lms.verbs(launch) == ["initialized"]

    lms.down = False
    monkeypatch.setitem(app.config, "XAPI_BACKOFF_BASE", 0.0)
    monkeypatch.setitem(app.config, "XAPI_BACKOFF_MAX", 0.0)
    db.session.execute(sa.update(Cmi5Statement).values(next_attempt_at=sa.func.now()))
    db.session.commit()
    ran = app.test_cli_runner().invoke(args=["lms", "cmi5", "deliver"])
    assert ran.exit_code == 0, ran.output
    assert "delivered 3, waiting 0, parked 0" in ran.output
    assert pending(db) == []
    assert lms.verbs(launch) == ["initialized", "passed", "completed", "terminated"]
    assert_conformant(lms, launch)


def test_the_exit_sends_what_waited_first_then_terminated(db, lms, launched):
    launch = lms.launch("alpha")
    learner = launched(launch)
    lms.down = True
    learner.take_quiz("alpha", right=False)
    lms.down = False
    left = learner.exit()
    assert left.status_code == 303
    assert lms.verbs(launch) == ["initialized", "failed", "terminated"]
    assert_conformant(lms, launch)
