"""Sessions and bookings through the API: the practicals' rules hold (eligibility,
capacity and waiting list), statements and audit records are written, and a token
stays within its organisation."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.db_types import utcnow
from lms.practicals.models import Booking
from lms.xapi.models import Statement
from tests.api.conftest import GATED_TYPE, error_of

UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture()
def acme_read(people, make_token):
    return make_token(people["acme"])[1]


@pytest.fixture()
def acme_write(people, make_token):
    return make_token(people["acme"], scope="write")[1]


def _book(api, token, session, learner):
    return api.post(
        f"/sessions/{session.public_id}/bookings", token=token, json={"learner": learner.public_id}
    )


def test_sessions_list_upcoming_own_and_centre_sessions(api, people, make_session, acme_read):
    own = make_session(people["acme"], starts_in=timedelta(days=3))
    centre = make_session(people["centre"], starts_in=timedelta(days=4))
    make_session(people["other"], starts_in=timedelta(days=5))
    body = api.get("/sessions", token=acme_read).get_json()
    assert [item["id"] for item in body["data"]] == [own.public_id, centre.public_id]
    first = body["data"][0]
    assert first["practical_type"]["id"] == GATED_TYPE
    assert first["trainer"]["id"] == people["trainer"].public_id
    assert first["seats_left"] == first["capacity"] == 4
    assert first["booking_open"] is True


def test_a_centre_token_sees_every_session(api, people, make_session, make_token):
    other = make_session(people["other"])
    _token, plain = make_token(people["centre"])
    ids = [item["id"] for item in api.get("/sessions", token=plain).get_json()["data"]]
    assert other.public_id in ids
    only = api.get(f"/sessions?organisation={people['acme'].slug}", token=plain).get_json()
    assert other.public_id not in [item["id"] for item in only["data"]]


def test_sessions_filter_by_type_dates_and_status(api, people, db, make_session, acme_read):
    from lms.practicals import sessions as scheduling

    gated = make_session(starts_in=timedelta(days=3))
    opened = make_session(type_id="open-practical", starts_in=timedelta(days=10))
    cancelled = make_session(starts_in=timedelta(days=6))
    scheduling.cancel_session(cancelled, by=people["trainer"], now=utcnow())
    db.session.commit()

    def ids(query):
        response = api.get(f"/sessions?{query}", token=acme_read)
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["data"]]

    assert ids("type=open-practical") == [opened.public_id]
    assert ids("") == [gated.public_id, opened.public_id]
    assert ids("status=cancelled") == [cancelled.public_id]
    assert ids("status=any") == [gated.public_id, cancelled.public_id, opened.public_id]
    to = quote((utcnow() + timedelta(days=5)).isoformat())
    assert ids(f"to={to}") == [gated.public_id]
    since = quote((utcnow() + timedelta(days=5)).isoformat())
    assert ids(f"from={since}") == [opened.public_id]
    assert api.get("/sessions?status=done", token=acme_read).status_code == 400
    assert api.get("/sessions?from=yesterday", token=acme_read).status_code == 400


def test_session_detail_and_other_organisations_session_is_404(
    api, people, make_session, acme_read
):
    own = make_session()
    foreign = make_session(people["other"])
    body = api.get(f"/sessions/{own.public_id}", token=acme_read).get_json()
    assert body["id"] == own.public_id and body["organisation"] == people["acme"].slug
    for path in (
        f"/sessions/{foreign.public_id}",
        f"/sessions/{foreign.public_id}/bookings",
        f"/sessions/{UNKNOWN}",
        "/sessions/not-a-uuid",
    ):
        response = api.get(path, token=acme_read)
        assert response.status_code == 404, path
        assert error_of(response)["code"] == "not_found"


def test_booking_an_eligible_learner_takes_a_seat_with_statement_and_audit(
    api, db, people, loaded, make_session, qualify, acme_write
):
    session = make_session()
    learner = people["learner"]
    qualify(learner, score=0.9)
    response = _book(api, acme_write, session, learner)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["state"] == "booked" and body["learner"]["id"] == learner.public_id
    assert response.headers["Location"].endswith(
        f"/api/v1/sessions/{session.public_id}/bookings/{body['id']}"
    )
    booking = db.session.scalar(sa.select(Booking).where(Booking.registration == body["id"]))
    assert booking.learner_id == learner.id
    verbs = db.session.scalars(
        sa.select(Statement.kind).where(Statement.user_id == learner.id)
    ).all()
    assert "practical.registered" in verbs
    actions = db.session.scalars(
        sa.select(AuditRecord.action).where(AuditRecord.target_id == str(booking.id))
    ).all()
    assert {"practical.booking.created", "api.booking.created"} <= set(actions)
    api_record = db.session.scalar(
        sa.select(AuditRecord).where(AuditRecord.action == "api.booking.created")
    )
    assert api_record.actor_label.startswith("api:lms_")
    seats = api.get(f"/sessions/{session.public_id}", token=acme_write).get_json()
    assert seats["seats_booked"] == 1 and seats["seats_left"] == 3


def test_an_ineligible_learner_is_refused_with_what_is_missing(
    api, db, people, make_session, acme_write
):
    session = make_session()
    response = _book(api, acme_write, session, people["learner"])
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "not_eligible"
    assert error["details"]["eligible"] is False
    assert error["details"]["missing"][0]["key"] == "qualification_valid:alpha"
    assert db.session.scalar(sa.select(sa.func.count(Booking.id))) == 0


def test_a_full_session_puts_the_learner_on_the_waiting_list(
    api, people, make_session, make_user, acme_write
):
    session = make_session(type_id="open-practical", capacity=1)
    assert _book(api, acme_write, session, people["learner"]).get_json()["state"] == "booked"
    second = _book(api, acme_write, session, people["second_learner"])
    assert second.status_code == 201
    assert second.get_json()["state"] == "waiting"


def test_booking_twice_is_a_conflict(api, people, make_session, acme_write):
    session = make_session(type_id="open-practical")
    assert _book(api, acme_write, session, people["learner"]).status_code == 201
    response = _book(api, acme_write, session, people["learner"])
    assert response.status_code == 409
    assert error_of(response)["code"] == "already_booked"


def test_booking_a_cancelled_or_closed_session_is_a_conflict(
    api, db, people, make_session, acme_write
):
    from lms.practicals import sessions as scheduling

    cancelled = make_session(type_id="open-practical")
    scheduling.cancel_session(cancelled, by=people["trainer"], now=utcnow())
    db.session.commit()
    response = _book(api, acme_write, cancelled, people["learner"])
    assert (response.status_code, error_of(response)["code"]) == (409, "session_cancelled")
    soon = make_session(type_id="open-practical", starts_in=timedelta(hours=3))
    response = _book(api, acme_write, soon, people["learner"])
    assert (response.status_code, error_of(response)["code"]) == (409, "booking_closed")


def test_another_organisations_learner_cannot_be_booked(api, people, make_session, acme_write):
    session = make_session(type_id="open-practical")
    response = _book(api, acme_write, session, people["other_learner"])
    assert response.status_code == 404


def test_a_centre_token_cannot_book_a_learner_on_another_organisations_session(
    api, people, make_session, make_token
):
    session = make_session(people["acme"], type_id="open-practical")
    _token, plain = make_token(people["centre"], scope="write")
    response = _book(api, plain, session, people["other_learner"])
    assert response.status_code == 422
    assert error_of(response)["code"] == "not_allowed"
    assert _book(api, plain, session, people["learner"]).status_code == 201


@pytest.mark.parametrize(
    "body", [None, {}, {"learner": 42}, {"learner": UNKNOWN}, ["x"], {"learner": "x\u0000"}]
)
def test_a_malformed_or_unknown_learner_in_the_body(api, people, make_session, acme_write, body):
    session = make_session(type_id="open-practical")
    response = api.post(f"/sessions/{session.public_id}/bookings", token=acme_write, json=body)
    expected = 404 if isinstance(body, dict) and isinstance(body.get("learner"), str) else 400
    assert response.status_code == expected
    error_of(response)


def test_a_non_json_body_is_400(api, make_session, acme_write):
    session = make_session(type_id="open-practical")
    response = api.post(
        f"/sessions/{session.public_id}/bookings", token=acme_write, data="learner=x"
    )
    assert response.status_code == 400


def test_cancelling_frees_the_seat_for_the_waiting_list(api, db, people, make_session, acme_write):
    session = make_session(type_id="open-practical", capacity=1)
    first = _book(api, acme_write, session, people["learner"]).get_json()
    waiting = _book(api, acme_write, session, people["second_learner"]).get_json()
    path = f"/sessions/{session.public_id}/bookings"
    response = api.delete(f"{path}/{first['id']}", token=acme_write)
    assert response.status_code == 200
    assert response.get_json()["state"] == "cancelled"
    promoted = api.get(f"{path}/{waiting['id']}", token=acme_write).get_json()
    assert promoted["state"] == "booked" and promoted["promoted_at"] is not None
    again = api.delete(f"{path}/{first['id']}", token=acme_write)
    assert (again.status_code, error_of(again)["code"]) == (409, "already_cancelled")
    actions = set(db.session.scalars(sa.select(AuditRecord.action)))
    assert {"practical.booking.cancelled", "api.booking.cancelled"} <= actions
    kinds = db.session.scalars(
        sa.select(Statement.kind).where(Statement.user_id == people["learner"].id)
    ).all()
    assert "practical.cancelled" in kinds


def test_bookings_list_by_state(api, people, make_session, acme_write):
    session = make_session(type_id="open-practical", capacity=1)
    first = _book(api, acme_write, session, people["learner"]).get_json()
    second = _book(api, acme_write, session, people["second_learner"]).get_json()
    path = f"/sessions/{session.public_id}/bookings"
    api.delete(f"{path}/{first['id']}", token=acme_write)

    def ids(query=""):
        return [item["id"] for item in api.get(f"{path}{query}", token=acme_write).json["data"]]

    assert ids() == [second["id"]]
    assert ids("?state=cancelled") == [first["id"]]
    assert ids("?state=any") == [first["id"], second["id"]]
    assert api.get(f"{path}?state=gone", token=acme_write).status_code == 400


def test_on_a_centre_session_a_token_sees_only_its_learners_bookings(
    api, people, make_session, make_token
):
    session = make_session(people["centre"], type_id="open-practical")
    acme = make_token(people["acme"], scope="write")[1]
    other = make_token(people["other"], scope="write")[1]
    mine = _book(api, acme, session, people["learner"]).get_json()
    theirs = _book(api, other, session, people["other_learner"]).get_json()
    path = f"/sessions/{session.public_id}/bookings"
    assert [item["id"] for item in api.get(path, token=acme).json["data"]] == [mine["id"]]
    assert api.get(f"{path}/{theirs['id']}", token=acme).status_code == 404
    assert api.delete(f"{path}/{theirs['id']}", token=acme).status_code == 404
    centre = make_token(people["centre"])[1]
    assert len(api.get(path, token=centre).json["data"]) == 2


def test_a_started_session_cannot_be_cancelled(api, db, people, make_session, acme_write):
    session = make_session(type_id="open-practical")
    made = _book(api, acme_write, session, people["learner"]).get_json()
    session.starts_at = utcnow() - timedelta(minutes=5)
    session.ends_at = utcnow() + timedelta(hours=1)
    db.session.commit()
    response = api.delete(f"/sessions/{session.public_id}/bookings/{made['id']}", token=acme_write)
    assert (response.status_code, error_of(response)["code"]) == (409, "session_started")
