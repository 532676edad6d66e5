"""The delivery worker against a real LRS on 127.0.0.1, on committed databases."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from lms import xapi
from lms.auth.models import User
from lms.db_types import utcnow
from lms.extensions import db
from lms.xapi import services
from lms.xapi.models import LrsEndpoint, StatementDelivery
from lms.xapi.worker import Worker
from tests.xapi.conftest import make_world, seed_statements, states
from tests.xapi.events import LESSON, MODULE


def wait_for(condition, timeout: float = 10.0, step: float = 0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


class Background:
    """A worker running in a thread until the test stops it."""

    def __init__(self, app):
        self.stop = threading.Event()
        self.worker = Worker(app, stop=self.stop, name="test")
        self.thread = threading.Thread(target=self.worker.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the worker did not stop"


def drain(app):
    return Worker(app).run(once=True)


def endpoint(world) -> LrsEndpoint:
    db.session.rollback()
    found = db.session.get(LrsEndpoint, world.endpoint_id)
    db.session.refresh(found)
    return found


def test_recorded_statement_reaches_the_lrs_within_seconds_of_commit(live, lrs):
    app = live().app
    with app.app_context():
        world = make_world(lrs.url)
        with Background(app):
            learner = db.session.get(User, world.learner_id)
            statement = xapi.record(
                xapi.LearningEvent(
                    kind="lesson.experienced",
                    learner=learner,
                    activity=LESSON,
                    parent=MODULE,
                    occurred_at=utcnow(),
                )
            )
            db.session.commit()
            committed = time.monotonic()
            assert wait_for(lambda: statement.uuid in lrs.lrs.statements, timeout=5)
            assert time.monotonic() - committed < 5
        db.session.rollback()
        row = db.session.scalar(sa.select(StatementDelivery))
        assert (row.state, row.response) == ("delivered", "HTTP 200")
        assert row.delivered_at is not None
        assert lrs.lrs.problems == []


def test_lrs_down_for_a_while_then_up_every_statement_arrives_once(live, lrs):
    app = live().app
    with app.app_context():
        world = make_world(lrs.url, batch_size=40)
        ids = seed_statements(world, 200)
        lrs.lrs.fail_with = 503
        with Background(app):
            assert wait_for(lambda: len(lrs.lrs.statement_requests()) >= 2)
            lrs.stop()  # now the connection is refused
            time.sleep(0.6)
            assert endpoint(world).last_error.startswith("connection failed")
            lrs.lrs.fail_with = None
            lrs.start()
            assert wait_for(lambda: len(lrs.lrs.statements) == 200, timeout=15)
            assert wait_for(lambda: states(world.endpoint_id) == {"delivered": 200})
        assert set(lrs.lrs.statements) == set(ids)
        assert lrs.lrs.repeated() == set()
        assert endpoint(world).failures == 0


def test_slow_lrs_is_given_up_within_the_read_time_out_and_retried(live, lrs):
    app = live(XAPI_READ_TIMEOUT=0.5).app
    with app.app_context():
        world = make_world(lrs.url)
        ids = seed_statements(world, 5)
        lrs.lrs.delay = 2.0
        started = time.monotonic()
        drain(app)
        assert time.monotonic() - started < 1.5
        assert states(world.endpoint_id) == {"pending": 5}
        assert endpoint(world).last_error == "no answer: read time-out"
        lrs.lrs.delay = 0
        assert wait_for(lambda: drain(app) and states(world.endpoint_id) == {"delivered": 5})
        assert set(lrs.lrs.statements) == set(ids)


def test_one_bad_statement_in_a_batch_of_100_is_parked_and_resent_after_a_fix(live, lrs):
    app = live().app
    with app.app_context():
        world = make_world(lrs.url)
        ids = seed_statements(world, 100)
        lrs.lrs.bad_ids = {ids[37]}
        drain(app)
        assert states(world.endpoint_id) == {"delivered": 99, "parked": 1}
        assert set(lrs.lrs.statements) == set(ids) - {ids[37]}
        assert len(lrs.lrs.statement_requests()) <= 15
        [bad] = db.session.scalars(
            sa.select(StatementDelivery).where(StatementDelivery.state == "parked")
        )
        assert bad.statement.uuid == ids[37]
        assert "result.score.raw must be a number" in bad.last_error
        lrs.lrs.bad_ids = set()
        assert services.resend(bad, by=None)
        db.session.commit()
        drain(app)
        assert states(world.endpoint_id) == {"delivered": 100}
        assert set(lrs.lrs.statements) == set(ids)
        assert lrs.lrs.repeated() == set()


def test_retry_after_is_honoured(live, lrs):
    app = live().app
    with app.app_context():
        world = make_world(lrs.url)
        seed_statements(world, 3)
        lrs.lrs.once = (429, "2")
        with Background(app):
            assert wait_for(lambda: states(world.endpoint_id) == {"delivered": 3}, timeout=8)
        first, second = lrs.lrs.statement_requests()[:2]
        assert first.status == 429
        assert second.at - first.at >= 2.0


def test_refused_credentials_pause_the_endpoint_until_the_admin_fixes_them(live, lrs):
    app = live().app
    with app.app_context():
        world = make_world(lrs.url, secret="wrong-secret")
        seed_statements(world, 4)
        drain(app)
        paused = endpoint(world)
        assert paused.paused_reason.startswith("The LRS refused the key and secret (HTTP 401")
        assert states(world.endpoint_id) == {"pending": 4}
        drain(app)
        assert len(lrs.lrs.statement_requests()) == 1
        services.update_endpoint(paused, {"secret": lrs.lrs.secret}, by=None)
        db.session.commit()
        assert endpoint(world).paused_reason is None
        drain(app)
        assert states(world.endpoint_id) == {"delivered": 4}


def test_a_statement_the_lrs_already_holds_counts_as_delivered(live, lrs):
    app = live().app
    with app.app_context():
        world = make_world(lrs.url)
        ids = seed_statements(world, 6)
        lrs.lrs.statements[ids[2]] = {"id": ids[2], "held": "a different statement"}
        drain(app)
        assert states(world.endpoint_id) == {"delivered": 6}
        answers = dict(
            db.session.execute(
                sa.select(StatementDelivery.id, StatementDelivery.response).order_by(
                    StatementDelivery.id
                )
            ).all()
        )
        assert sorted(answers.values()).count("HTTP 409: already stored by the LRS") == 1


def test_deliveries_failing_past_the_maximum_age_are_parked(live, lrs):
    app = live(XAPI_MAX_RETRY_AGE=0.5).app
    with app.app_context():
        world = make_world(lrs.url)
        seed_statements(world, 3)
        lrs.lrs.fail_with = 500
        time.sleep(0.6)
        drain(app)
        assert states(world.endpoint_id) == {"parked": 3}
        parked = db.session.scalar(sa.select(StatementDelivery.last_error))
        assert parked.startswith("Gave up after retrying: HTTP 500")


def test_each_statement_goes_to_every_enabled_endpoint_of_its_organisation_and_the_centre(
    live, lrs
):
    from lms.auth import services as accounts

    app = live().app
    with app.app_context():
        world = make_world(lrs.url)
        centre = accounts.create_organisation(name="Centre", slug="centre", is_centre=True)
        other = accounts.create_organisation(name="Other", slug="other")
        kwargs = {"url": lrs.url, "key": lrs.lrs.key, "secret": lrs.lrs.secret}
        centre_lrs = services.create_endpoint(organisation=centre, name="Centre LRS", **kwargs)
        services.create_endpoint(organisation=other, name="Other LRS", **kwargs)
        off = services.create_endpoint(organisation=centre, name="Off", enabled=False, **kwargs)
        learner = db.session.get(User, world.learner_id)
        statement = xapi.record(
            xapi.LearningEvent(
                kind="module.launched", learner=learner, activity=MODULE, occurred_at=utcnow()
            )
        )
        db.session.commit()
        assert {d.endpoint_id for d in statement.deliveries} == {world.endpoint_id, centre_lrs.id}
        drain(app)
        assert states() == {"delivered": 2}
        assert lrs.lrs.receipts[statement.uuid] == 2
        assert off.id not in {d.endpoint_id for d in statement.deliveries}


@pytest.mark.postgres_only
def test_a_claim_taken_ahead_that_the_server_ended_is_not_sent(live, lrs, backend):
    """The next group is claimed while one is on the wire. When the sending outlasts the
    waiting claim's idle limit, the server ends that claim's transaction and its rows are
    anyone's again: the worker must find out before sending them, not after."""
    if backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's claims")
    # Idle limit 0.5 + 0.5 + 1 = 2 s; a group of 4 batches takes 4 x 0.7 = 2.8 s.
    app = live(
        XAPI_LEASE_SECONDS=0.5,
        XAPI_CONNECT_TIMEOUT=0.5,
        XAPI_READ_TIMEOUT=1.0,
        XAPI_BATCHES_PER_CLAIM=4,
    ).app
    with app.app_context():
        world = make_world(lrs.url, batch_size=10)
        ids = seed_statements(world, 80)
        db.session.remove()
    lrs.lrs.delay = 0.7
    rounds = 0
    with app.app_context():
        while states(world.endpoint_id).get("delivered", 0) < 80 and rounds < 6:
            drain(app)
            rounds += 1
        assert states(world.endpoint_id) == {"delivered": 80}
    assert set(lrs.lrs.statements) == set(ids)
    assert lrs.lrs.repeated() == set()
    assert rounds > 1, "the group claimed ahead was lost and claimed again"
