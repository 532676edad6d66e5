"""The learner's practicals page: a fixed number of queries whatever the number of
sessions, trainers and bookings, and one CSRF token shared by every row's form."""

from __future__ import annotations

import re

import sqlalchemy as sa

from lms.practicals.models import Booking
from tests.conftest import post_form
from tests.dashboard.conftest import page_queries


def add_sessions(make_session, make_user, org, count: int) -> list:
    """``count`` gowning sessions, each with a trainer of its own."""
    return [make_session(trainer=make_user("trainer", org)) for _ in range(count)]


def book(client, session):
    return post_form(client, f"/practicals/sessions/{session.public_id}/book", {}, "/practicals/")


def test_learner_page_queries_do_not_grow_with_sessions(
    world, as_role, make_session, make_user, gowning_ready
):
    gowning_ready(world["learner"])
    client = as_role("learner")
    booked = add_sessions(make_session, make_user, world["acme"], 2)
    book(client, booked[0])
    few = page_queries(client, "/practicals/")
    more = add_sessions(make_session, make_user, world["acme"], 6)
    for session in more[:3]:
        book(client, session)
    many = page_queries(client, "/practicals/")
    html = client.get("/practicals/").get_data(as_text=True)
    assert html.count("Cancel my booking") == 4
    assert many == few


def test_every_row_form_carries_the_sessions_token_and_books(
    db, world, as_role, make_session, make_user, gowning_ready
):
    gowning_ready(world["learner"])
    client = as_role("learner")
    sessions = add_sessions(make_session, make_user, world["acme"], 3)
    html = client.get("/practicals/").get_data(as_text=True)
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>\s*(<input[^>]+>)', html)
    booking_forms = [(action, field) for action, field in forms if action.endswith("/book")]
    assert len(booking_forms) == 3
    tokens = {re.search(r'value="([^"]+)"', field).group(1) for _action, field in booking_forms}
    assert len(tokens) == 1 and 'name="csrf_token"' in booking_forms[0][1]
    (token,) = tokens
    action = f"/practicals/sessions/{sessions[2].public_id}/book"
    assert action in {action for action, _field in booking_forms}
    response = client.post(action, data={"csrf_token": token})
    assert response.status_code == 302
    seat = db.session.scalar(sa.select(Booking).where(Booking.session_id == sessions[2].id))
    assert (seat.learner_id, seat.state) == (world["learner"].id, "booked")
