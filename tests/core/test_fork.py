"""gunicorn forks preloaded workers: a child never uses the parent's pooled connections."""

from __future__ import annotations

import os

import sqlalchemy as sa

from lms.extensions import db


def _pooled_in_child() -> int:
    """Fork; the child reports how many connections its pool still holds (exit status)."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child's own process)
        status = 100
        try:
            status = db.engine.pool.checkedin()
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def test_a_forked_child_starts_with_an_empty_pool_and_the_parent_keeps_its_own(app, db):
    with app.app_context():
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        assert db.engine.pool.checkedin() >= 1, "the parent pooled a connection"
        assert _pooled_in_child() == 0
        # The parent's connection was not closed by the child: it still answers.
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1")).scalar() == 1
