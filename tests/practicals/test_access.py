"""Every route, for every role: who gets the page, who is refused, and how."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.db_types import utcnow
from lms.practicals import booking as booking_service
from lms.practicals.models import Attendance, Booking, PracticalSession
from tests.conftest import csrf_token

ROLES = [
    "anonymous",
    "learner",
    "other_learner",
    "foreign_learner",
    "trainer",
    "foreign_trainer",
    "admin",
    "foreign_admin",
    "centre_admin",
]


@pytest.fixture()
def scene(db, world, make_session, gowning_ready):
    """An Acme session starting in an hour, booked by the learner."""
    session = make_session(starts_in=timedelta(hours=1), booking_closes_hours=0)
    gowning_ready(world["learner"])
    seat = booking_service.book(session, world["learner"], utcnow())
    db.session.commit()
    return session, seat


def expect(role, allowed: set[str], ok=200, refused=None):
    if role == "anonymous":
        return 302
    return ok if role in allowed else refused


GET_PAGES = {
    # path template -> {role: expected status}
    "/practicals/": lambda r: expect(r, set(ROLES), 200),
    "/practicals/types/grade-b-gowning": lambda r: expect(r, set(ROLES), 200),
    "/practicals/sessions/new": lambda r: expect(
        r, {"trainer", "foreign_trainer", "admin", "foreign_admin", "centre_admin"}, 200, 403
    ),
    "/practicals/sessions/{s}": lambda r: expect(
        r,
        {"trainer", "admin", "centre_admin"},
        200,
        404 if r in ("foreign_trainer", "foreign_admin") else 403,
    ),
    "/practicals/sessions/{s}/edit": lambda r: expect(
        r,
        {"trainer", "admin", "centre_admin"},
        200,
        404 if r in ("foreign_trainer", "foreign_admin") else 403,
    ),
    "/practicals/sessions/{s}/learners/{l}/sign-off": lambda r: expect(
        r, {"trainer"}, 200, 404 if r in ("foreign_trainer",) else 403
    ),
    "/practicals/sessions/{s}/learners/{l}/waiver": lambda r: expect(
        r, {"trainer"}, 200, 404 if r in ("foreign_trainer",) else 403
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", list(GET_PAGES))
def test_pages_for_every_role(world, as_role, scene, role, path):
    session, _seat = scene
    client = as_role(role)
    url = path.format(s=session.public_id, l=world["learner"].public_id)
    response = client.get(url)
    assert response.status_code == GET_PAGES[path](role), url


def _post(client, url, data=None):
    token = csrf_token(client, "/practicals/")  # anonymous: the log-in page's token
    return client.post(url, data={**(data or {}), "csrf_token": token})


@pytest.mark.parametrize("role", ROLES)
def test_booking_is_for_learners_of_the_organisation(db, world, as_role, scene, role, passes):
    session, _seat = scene
    for name in ("other_learner", "foreign_learner"):
        passes(world[name], "gmp-fundamentals")
        passes(world[name], "aseptic-handling")
    response = _post(as_role(role), f"/practicals/sessions/{session.public_id}/book")
    expected = {
        "anonymous": 302,
        "other_learner": 302,
        "learner": 302,  # already booked: refused with a message
        "foreign_learner": 404,
    }.get(role, 403)
    assert response.status_code == expected
    db.session.expire_all()
    learners = set(
        db.session.scalars(
            sa.select(Booking.learner_id).where(
                Booking.session_id == session.id, Booking.state != "cancelled"
            )
        )
    )
    wanted = {world["learner"].id} | (
        {world["other_learner"].id} if role == "other_learner" else set()
    )
    assert learners == wanted


@pytest.mark.parametrize("role", ROLES)
def test_only_the_learner_cancels_their_booking(db, as_role, scene, role):
    _session, seat = scene
    response = _post(as_role(role), f"/practicals/bookings/{seat.id}/cancel")
    expected = {"anonymous": 302, "learner": 302}.get(
        role, 404 if role in ("other_learner", "foreign_learner") else 403
    )
    assert response.status_code == expected
    db.session.expire_all()
    assert db.session.get(Booking, seat.id).state == (
        "cancelled" if role == "learner" else "booked"
    )


@pytest.mark.parametrize("role", ROLES)
def test_check_in_is_for_the_organisations_trainers(db, world, as_role, scene, role):
    session, _seat = scene
    url = f"/practicals/sessions/{session.public_id}/learners/{world['learner'].public_id}/check-in"
    response = _post(as_role(role), url)
    expected = {"anonymous": 302, "trainer": 302, "foreign_trainer": 404}.get(role, 403)
    assert response.status_code == expected
    attended = db.session.scalar(sa.select(sa.func.count()).select_from(Attendance))
    assert attended == (1 if role == "trainer" else 0)


@pytest.mark.parametrize("role", ROLES)
def test_cancelling_a_session_is_for_its_managers(db, as_role, scene, role):
    session, _seat = scene
    response = _post(as_role(role), f"/practicals/sessions/{session.public_id}/cancel")
    managers = {"trainer", "admin", "centre_admin"}
    expected = (
        302
        if role == "anonymous" or role in managers
        else (404 if role in ("foreign_trainer", "foreign_admin") else 403)
    )
    assert response.status_code == expected
    db.session.expire_all()
    assert db.session.get(PracticalSession, session.id).status == (
        "cancelled" if role in managers else "scheduled"
    )


def _session_form(world, org, **extra):
    start = (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M")
    return {
        "practical_type": "loop-check-4-20ma",
        "organisation": str(org.id),
        "starts_at": start,
        "room": "Skid hall",
        "trainer": str(world["trainer"].id),
        "capacity": "",
        "booking_closes_hours": "",
        "notes": "Bring safety shoes.",
        **extra,
    }


def test_a_trainer_schedules_a_session_with_the_types_capacity(db, world, as_role):
    client = as_role("trainer")
    token = csrf_token(client, "/practicals/sessions/new")
    data = {**_session_form(world, world["acme"]), "csrf_token": token}
    response = client.post("/practicals/sessions/new", data=data)
    assert response.status_code == 302
    created = db.session.scalars(sa.select(PracticalSession)).all()[-1]
    assert (created.capacity, created.room, created.organisation_id) == (
        8,
        "Skid hall",
        world["acme"].id,
    )


def test_a_trainer_cannot_schedule_for_another_organisation(db, world, as_role):
    client = as_role("trainer")
    token = csrf_token(client, "/practicals/sessions/new")
    before = db.session.scalar(sa.select(sa.func.count()).select_from(PracticalSession))
    for data in (
        _session_form(world, world["other"]),
        _session_form(world, world["acme"], trainer=str(world["foreign_trainer"].id)),
        _session_form(world, world["acme"], starts_at="2001-01-01T09:00"),
    ):
        response = client.post("/practicals/sessions/new", data={**data, "csrf_token": token})
        assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PracticalSession)) == before


def test_capacity_never_goes_below_the_seats_taken(db, world, as_role, scene):
    session, _seat = scene
    client = as_role("trainer")
    url = f"/practicals/sessions/{session.public_id}/edit"
    token = csrf_token(client, url)
    data = _session_form(world, world["acme"], capacity="0")
    data["starts_at"] = session.starts_at.strftime("%Y-%m-%dT%H:%M")
    assert client.post(url, data={**data, "csrf_token": token}).status_code == 200
    data["capacity"] = "3"
    data["room"] = "Clean room 3"
    assert client.post(url, data={**data, "csrf_token": token}).status_code == 302
    db.session.expire_all()
    assert (session.capacity, session.room) == (3, "Clean room 3")
