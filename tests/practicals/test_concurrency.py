"""Capacity under real concurrency: 50 simultaneous bookings of a 10-seat session.

Runs against a live server on a database of its own (committed data, one thread per
request, a pool of connections), as the browser tests do; PostgreSQL only.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import requests
import sqlalchemy as sa

from lms import create_app
from lms.auth import services as accounts
from lms.db_types import utcnow
from lms.extensions import db
from lms.practicals import records, sessions
from lms.practicals.models import Booking, PracticalType
from lms.practicals.rules import QualificationRecord
from tests.browser.conftest import LiveServer, _database_url
from tests.conftest import DEFAULT_PASSWORD, reset_schema, test_config
from tests.practicals.conftest import load_types

pytestmark = pytest.mark.postgres_only
LEARNERS = 50
SEATS = 10


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    url, drop = _database_url("postgresql", tmp_path_factory.mktemp("live"))
    app = create_app(test_config(url, RATELIMIT_ENABLED=False))
    reset_schema(app)
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()
    with app.app_context():
        db.engine.dispose()
    drop()


@pytest.fixture()
def everyone_qualified(monkeypatch):
    def qualified(_user_id):
        issued = utcnow() - timedelta(days=1)
        until = issued + timedelta(days=365)
        return [
            QualificationRecord("gmp-fundamentals", 0.9, issued, until),
            QualificationRecord("aseptic-handling", 0.9, issued, until),
        ]

    monkeypatch.setattr(records, "qualification_records", qualified)


def _seed(app):
    with app.app_context():
        load_types(db)
        org = accounts.create_organisation(name="Acme Pharma", slug="acme")
        trainer = accounts.create_user(
            email="trainer@example.org",
            display_name="Trainer",
            password=DEFAULT_PASSWORD,
            organisation=org,
            role="trainer",
        )
        learners = [
            accounts.create_user(
                email=f"learner{n}@example.org",
                display_name=f"Learner {n}",
                password=DEFAULT_PASSWORD,
                organisation=org,
                learner_category="worker",
            ).email
            for n in range(LEARNERS)
        ]
        session = sessions.create_session(
            practical_type=db.session.get(PracticalType, "grade-b-gowning"),
            organisation=org,
            starts_at=utcnow() + timedelta(days=3),
            room="Clean room 2",
            trainer=trainer,
            capacity=SEATS,
            by=trainer,
            now=utcnow(),
        )
        db.session.commit()
        return session.public_id, session.id, learners


def _logged_in(base: str, email: str) -> tuple[requests.Session, str]:
    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = browser.post(
        f"{base}/login",
        data={"email": email, "password": DEFAULT_PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302
    page = browser.get(f"{base}/practicals/", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return browser, token


def _states(app, session_id):
    with app.app_context():
        rows = db.session.execute(
            sa.select(Booking.learner_id, Booking.state, Booking.position)
            .where(Booking.session_id == session_id)
            .order_by(Booking.position)
        ).all()
        db.session.remove()
        return rows


def test_fifty_concurrent_bookings_fill_ten_seats_and_a_cancel_promotes_the_first_waiting(
    live, everyone_qualified
):
    public_id, session_id, emails = _seed(live.app)
    browsers = [_logged_in(live.url, email) for email in emails]
    barrier = threading.Barrier(LEARNERS)
    statuses: list[int] = []

    def book(browser, token):
        barrier.wait()
        response = browser.post(
            f"{live.url}/practicals/sessions/{public_id}/book",
            data={"csrf_token": token},
            allow_redirects=False,
            timeout=60,
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=book, args=pair) for pair in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert statuses == [302] * LEARNERS

    rows = _states(live.app, session_id)
    assert len(rows) == LEARNERS
    assert sum(1 for row in rows if row.state == "booked") == SEATS
    assert sum(1 for row in rows if row.state == "waiting") == LEARNERS - SEATS
    assert len({row.position for row in rows}) == LEARNERS
    first_waiting = next(row for row in rows if row.state == "waiting")

    seated = next(row for row in rows if row.state == "booked")
    with live.app.app_context():
        seat = db.session.scalar(
            sa.select(Booking).where(
                Booking.session_id == session_id, Booking.learner_id == seated.learner_id
            )
        )
        email = seat.learner.email
        seat_id = seat.id
        db.session.remove()
    browser, token = _logged_in(live.url, email)
    response = browser.post(
        f"{live.url}/practicals/bookings/{seat_id}/cancel",
        data={"csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302
    after = {row.learner_id: row.state for row in _states(live.app, session_id)}
    assert after[seated.learner_id] == "cancelled"
    assert after[first_waiting.learner_id] == "booked"
    assert sum(1 for state in after.values() if state == "booked") == SEATS
    assert sum(1 for state in after.values() if state == "waiting") == LEARNERS - SEATS - 1
