"""Booking through the pages: the gate, capacity, the waiting list, crafted requests."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from lms.db_types import utcnow
from lms.practicals.models import Booking
from lms.xapi.models import Statement
from tests.conftest import post_form


def book(client, session):
    return post_form(client, f"/practicals/sessions/{session.public_id}/book", {}, "/practicals/")


def bookings(db, session, state=None):
    db.session.expire_all()
    query = sa.select(Booking).where(Booking.session_id == session.id).order_by(Booking.position)
    if state:
        query = query.where(Booking.state == state)
    return db.session.scalars(query).all()


def statements(db, kind):
    return db.session.scalars(sa.select(Statement).where(Statement.kind == kind)).all()


def test_an_eligible_learner_books_a_seat(db, world, as_role, make_session, gowning_ready):
    session = make_session()
    gowning_ready(world["learner"])
    client = as_role("learner")
    response = book(client, session)
    assert response.status_code == 302
    (seat,) = bookings(db, session)
    assert (seat.state, seat.learner_id) == ("booked", world["learner"].id)
    (statement,) = statements(db, "practical.registered")
    assert statement.user_id == world["learner"].id
    assert "Your seat is booked" in client.get("/practicals/").get_data(as_text=True)


def test_the_list_says_what_is_missing_with_links(world, as_role, make_session, passes):
    make_session()
    passes(world["learner"], "gmp-fundamentals")
    html = as_role("learner").get("/practicals/").get_data(as_text=True)
    assert "Not yet: you still need to" in html
    assert "/modules/aseptic-handling" in html
    assert "Hold a valid pass of the module" in html
    assert "Book a seat" not in html.split('id="type-grade-b-gowning"')[1].split("</section>")[0]


def test_an_ineligible_learner_cannot_book_by_crafted_post(db, world, as_role, make_session):
    session = make_session()
    client = as_role("learner")
    response = book(client, session)
    assert response.status_code == 302
    assert bookings(db, session) == []
    assert statements(db, "practical.registered") == []
    assert "do not meet the prerequisites" in client.get("/practicals/").get_data(as_text=True)


def test_a_pass_expiring_before_the_session_blocks_the_booking(
    db, world, as_role, make_session, passes
):
    session = make_session(starts_in=timedelta(days=20))
    passes(world["learner"], "gmp-fundamentals")
    passes(world["learner"], "aseptic-handling", valid_until=utcnow() + timedelta(days=10))
    client = as_role("learner")
    html = client.get("/practicals/").get_data(as_text=True)
    assert "before the session" in html
    book(client, session)
    assert bookings(db, session) == []


def test_a_full_session_offers_the_waiting_list_and_a_cancel_promotes_in_order(
    db, world, make_user, login_as, make_client, make_session, gowning_ready
):
    session = make_session(capacity=1)
    learners = [world["learner"], world["other_learner"], make_user("learner", world["acme"])]
    clients = []
    for learner in learners:
        gowning_ready(learner)
        clients.append(login_as(learner, on=make_client()))
        book(clients[-1], session)
    assert [(b.learner_id, b.state) for b in bookings(db, session)] == [
        (learners[0].id, "booked"),
        (learners[1].id, "waiting"),
        (learners[2].id, "waiting"),
    ]
    first = bookings(db, session)[0]
    response = post_form(clients[0], f"/practicals/bookings/{first.id}/cancel", {}, "/practicals/")
    assert response.status_code == 302
    states = {b.learner_id: b.state for b in bookings(db, session)}
    assert states == {
        learners[0].id: "cancelled",
        learners[1].id: "booked",
        learners[2].id: "waiting",
    }
    assert "moved from the waiting list" in clients[1].get("/practicals/").get_data(as_text=True)
    assert len(statements(db, "practical.registered")) == 2
    assert len(statements(db, "practical.cancelled")) == 1


def test_booking_closes_before_the_start(db, world, as_role, make_session, gowning_ready):
    session = make_session(starts_in=timedelta(hours=10))  # default: closes 24 h before
    gowning_ready(world["learner"])
    client = as_role("learner")
    assert "Booking closed" in client.get("/practicals/").get_data(as_text=True)
    book(client, session)
    assert bookings(db, session) == []
    later = make_session(starts_in=timedelta(hours=10), booking_closes_hours=2)
    book(client, later)
    assert [b.state for b in bookings(db, later)] == ["booked"]


def test_the_booking_delay_comes_from_the_configuration(
    app, db, world, as_role, make_session, gowning_ready, monkeypatch
):
    monkeypatch.setitem(app.config, "PRACTICALS_BOOKING_CLOSES_HOURS", 1)
    session = make_session(starts_in=timedelta(hours=10))
    gowning_ready(world["learner"])
    book(as_role("learner"), session)
    assert [b.state for b in bookings(db, session)] == ["booked"]


def test_a_past_or_cancelled_session_cannot_be_booked(
    db, world, as_role, make_session, gowning_ready
):
    past = make_session()
    past.starts_at = utcnow() - timedelta(days=1)
    past.ends_at = utcnow() - timedelta(hours=20)
    cancelled = make_session()
    cancelled.status = "cancelled"
    db.session.commit()
    gowning_ready(world["learner"])
    client = as_role("learner")
    for session in (past, cancelled):
        assert book(client, session).status_code == 302
        assert bookings(db, session) == []


def test_booking_twice_makes_one_booking(db, world, as_role, make_session, gowning_ready):
    session = make_session()
    gowning_ready(world["learner"])
    client = as_role("learner")
    book(client, session)
    book(client, session)
    assert len(bookings(db, session)) == 1


def test_someone_elses_booking_cannot_be_cancelled(
    db, world, as_role, make_session, gowning_ready, login_as, make_client
):
    session = make_session()
    gowning_ready(world["other_learner"])
    book(login_as(world["other_learner"], on=make_client()), session)
    (theirs,) = bookings(db, session)
    client = as_role("learner")
    response = post_form(client, f"/practicals/bookings/{theirs.id}/cancel", {}, "/practicals/")
    assert response.status_code == 404
    db.session.refresh(theirs)
    assert theirs.state == "booked"


def test_a_learner_books_the_centres_sessions_not_another_organisations(
    db, world, as_role, make_session, gowning_ready
):
    centre_session = make_session(org=world["centre"])
    foreign = make_session(org=world["other"], trainer=world["foreign_trainer"])
    gowning_ready(world["learner"])
    client = as_role("learner")
    html = client.get("/practicals/").get_data(as_text=True)
    assert centre_session.public_id in html
    assert foreign.public_id not in html
    book(client, centre_session)
    assert [b.state for b in bookings(db, centre_session)] == ["booked"]
    assert book(client, foreign).status_code == 404
    assert bookings(db, foreign) == []


def test_a_learner_can_book_again_after_cancelling(db, world, as_role, make_session, gowning_ready):
    session = make_session()
    gowning_ready(world["learner"])
    client = as_role("learner")
    book(client, session)
    (first,) = bookings(db, session)
    post_form(client, f"/practicals/bookings/{first.id}/cancel", {}, "/practicals/")
    book(client, session)
    assert [b.state for b in bookings(db, session)] == ["cancelled", "booked"]
