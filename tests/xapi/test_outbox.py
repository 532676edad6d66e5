"""Claims of the outbox: row locks on PostgreSQL, leases on SQLite."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.extensions import db
from lms.xapi import outbox
from lms.xapi.delivery import BatchOutcome, Target
from lms.xapi.models import LrsEndpoint, StatementDelivery
from tests.xapi.conftest import make_world, seed_statements


def _target(world) -> Target:
    target = Target.of(db.session.get(LrsEndpoint, world.endpoint_id))
    db.session.commit()
    return target


def _rows() -> dict[int, tuple]:
    db.session.rollback()
    query = sa.select(
        StatementDelivery.id,
        StatementDelivery.state,
        StatementDelivery.attempts,
        StatementDelivery.claim,
        StatementDelivery.lease_until,
    )
    rows = {row.id: tuple(row[1:]) for row in db.session.execute(query)}
    db.session.commit()
    return rows


def _everything_accepted(taken: outbox.Claim) -> BatchOutcome:
    return BatchOutcome(delivered={i.delivery_id: "HTTP 200" for i in taken.items}, status=200)


@pytest.fixture()
def postgresql_only(backend):
    if backend != "postgresql":
        pytest.skip("row locks are PostgreSQL's claims")


@pytest.mark.postgres_only
def test_a_claim_on_postgresql_is_row_locks_skipped_by_other_workers_and_writes_once(
    live, postgresql_only
):
    app = live().app
    with app.app_context():
        world = make_world("http://lrs.test/xapi/")
        seed_statements(world, 30)
        target = _target(world)
        mine, theirs = outbox.row_locks(app.config), outbox.row_locks(app.config)
        try:
            first = outbox.claim(target, 20, 60, mine)
            second = outbox.claim(target, 20, 60, theirs)
            assert len(first.items) == 20
            assert len(second.items) == 10
            assert not set(first.ids) & set(second.ids)
            # Nothing written while the claims are held.
            assert set(_rows().values()) == {("pending", 0, None, None)}
            outbox.settle(first, _everything_accepted(first), app.config)
            outbox.release(second)
            rows = _rows()
            assert {rows[i] for i in first.ids} == {("delivered", 1, None, None)}
            assert {rows[i] for i in second.ids} == {("pending", 0, None, None)}
            again = outbox.claim(target, 20, 60, theirs)
            assert again.ids == second.ids
            outbox.release(again)
        finally:
            mine.close()
            theirs.close()


@pytest.mark.postgres_only
def test_the_rows_of_a_claim_whose_connection_died_are_due_again_at_once(live, postgresql_only):
    app = live().app
    with app.app_context():
        world = make_world("http://lrs.test/xapi/")
        seed_statements(world, 5)
        target = _target(world)
        dead, alive = outbox.row_locks(app.config), outbox.row_locks(app.config)
        try:
            lost = outbox.claim(target, 10, 600, dead)
            assert outbox.claim(target, 10, 600, alive) is None
            pid = lost.connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            db.session.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            db.session.commit()
            taken = outbox.claim(target, 10, 600, alive)
            assert taken is not None and taken.ids == lost.ids
            outbox.release(taken)
            with pytest.raises(sa.exc.DBAPIError):
                outbox.settle(lost, _everything_accepted(lost), app.config)
            assert lost.connection.closed
            assert {row[0] for row in _rows().values()} == {"pending"}
        finally:
            dead.close()
            alive.close()


@pytest.mark.postgres_only
def test_a_claim_transaction_is_bounded_by_the_idle_limit(live, postgresql_only):
    app = live(XAPI_LEASE_SECONDS=10, XAPI_CONNECT_TIMEOUT=1.0, XAPI_READ_TIMEOUT=2.0).app
    with app.app_context():
        world = make_world("http://lrs.test/xapi/")
        seed_statements(world, 2)
        locks = outbox.row_locks(app.config)
        try:
            assert locks.idle_seconds == 13
            taken = outbox.claim(_target(world), 10, 10, locks)
            limit = taken.connection.exec_driver_sql(
                "SHOW idle_in_transaction_session_timeout"
            ).scalar()
            assert limit == "13s"
            outbox.release(taken)
        finally:
            locks.close()


def test_a_lease_claim_keeps_the_rows_pending_and_hides_them_until_settled(live, backend):
    app = live().app
    with app.app_context():
        world = make_world("http://lrs.test/xapi/")
        seed_statements(world, 4)
        target = _target(world)
        taken = outbox.claim(target, 3, 60)
        assert [item.body[:1] for item in taken.items] == [b"{"] * 3
        rows = _rows()
        assert {rows[i][:2] for i in taken.ids} == {("pending", 1)}
        assert {rows[i][2] for i in taken.ids} == {taken.token}
        other = outbox.claim(target, 3, 60)
        assert not set(taken.ids) & set(other.ids)
        assert len(other.items) == 1
        outbox.settle(taken, _everything_accepted(taken), app.config)
        outbox.release(other)
        rows = _rows()
        assert {rows[i] for i in taken.ids} == {("delivered", 1, None, None)}
        assert {rows[i][0] for i in other.ids} == {"pending"}
        assert outbox.claim(target, 3, 60).ids == other.ids


def test_a_lease_that_ran_out_is_taken_over(live, backend):
    app = live().app
    with app.app_context():
        world = make_world("http://lrs.test/xapi/")
        seed_statements(world, 2)
        target = _target(world)
        abandoned = outbox.claim(target, 5, -1)  # a lease already over: a dead worker's
        taken = outbox.claim(target, 5, 60)
        assert taken.ids == abandoned.ids
        outbox.settle(abandoned, _everything_accepted(abandoned), app.config)
        assert {row[0] for row in _rows().values()} == {"pending"}  # not its rows any more


def test_a_database_error_in_a_claim_is_raised_as_sqlalchemy_raises_it(live, backend):
    app = live().app
    with app.app_context():
        broken = sa.select(sa.column("no_such_column"))
        with pytest.raises(sa.exc.DBAPIError):
            outbox._fetch_raw(db.session.connection(), broken, {})
        db.session.rollback()
