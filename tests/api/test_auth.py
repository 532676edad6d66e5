"""Only a valid bearer token opens the API; a read token cannot write; cookies never count."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.api import services
from lms.api.models import ApiToken
from lms.db_types import utcnow
from tests.api.conftest import GATED_TYPE, error_of
from tests.conftest import login

READ_PATHS = ["/modules", "/learners", "/sessions", "/practical-types"]


@pytest.mark.parametrize("path", READ_PATHS)
def test_no_token_is_401_with_a_bearer_challenge(api, path):
    response = api.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "unauthorized"


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer ", "Token abc", "bearer"],
)
def test_other_schemes_or_an_empty_bearer_are_401(client, header):
    response = client.get("/api/v1/modules", headers={"Authorization": header})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"


def test_unknown_and_forged_tokens_are_401_invalid_token(api, people, make_token):
    _token, plain = make_token(people["acme"])
    forged = plain[:-4] + ("AAAA" if not plain.endswith("AAAA") else "BBBB")
    for value in ("lms_0123456789ab_" + "x" * 43, forged, "nonsense", "lms_" + "é" * 20):
        response = api.get("/modules", token=value)
        assert response.status_code == 401, value
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
        assert error_of(response)["code"] == "invalid_token"


def test_a_valid_token_opens_the_api_and_records_its_use(api, db, people, make_token):
    token, plain = make_token(people["acme"])
    assert token.last_used_at is None
    assert api.get("/modules", token=plain).status_code == 200
    used = db.session.scalar(sa.select(ApiToken.last_used_at).where(ApiToken.id == token.id))
    assert used is not None and utcnow() - used < timedelta(minutes=1)


def test_a_revoked_token_stops_working_at_once(api, db, people, make_token):
    token, plain = make_token(people["acme"])
    assert api.get("/modules", token=plain).status_code == 200
    services.revoke_token(token, by=people["admin"], now=utcnow())
    db.session.commit()
    response = api.get("/modules", token=plain)
    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_token"


def test_an_expired_token_is_refused(api, db, people, make_token):
    token, plain = make_token(people["acme"], expires_at=utcnow() + timedelta(hours=1))
    assert api.get("/modules", token=plain).status_code == 200
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert api.get("/modules", token=plain).status_code == 401


def test_a_logged_in_browser_session_does_not_authenticate_the_api(client, people):
    assert login(client, people["centre_admin"]).status_code == 302
    assert client.get("/api/v1/modules").status_code == 401
    response = client.post("/api/v1/sessions/00000000-0000-4000-8000-000000000000/bookings")
    assert response.status_code == 401


def test_a_read_token_may_not_book_or_cancel(api, people, make_token, make_session):
    session = make_session()
    _token, plain = make_token(people["acme"], scope="read")
    response = api.post(
        f"/sessions/{session.public_id}/bookings",
        token=plain,
        json={"learner": people["learner"].public_id},
    )
    assert response.status_code == 403
    assert error_of(response)["code"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    response = api.delete(
        f"/sessions/{session.public_id}/bookings/00000000-0000-4000-8000-000000000000",
        token=plain,
    )
    assert response.status_code == 403


def test_a_write_token_posts_without_a_csrf_token(api, people, make_token, make_session):
    session = make_session(type_id="open-practical")
    _token, plain = make_token(people["acme"], scope="write")
    response = api.post(
        f"/sessions/{session.public_id}/bookings",
        token=plain,
        json={"learner": people["learner"].public_id},
    )
    assert response.status_code == 201, response.get_json()


def test_the_openapi_document_needs_no_token(api):
    response = api.get("/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


def test_an_unsupported_method_is_a_json_405_naming_the_allowed_ones(api, people, make_token):
    _token, plain = make_token(people["acme"], scope="write")
    response = api.client.put("/api/v1/modules", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    error_of(response)


def test_an_unknown_api_address_is_a_json_404(api, people, make_token):
    _token, plain = make_token(people["acme"])
    response = api.get("/no-such-thing", token=plain)
    assert response.status_code == 404
    error_of(response)


def _operations():
    from lms.api import openapi

    for path, operations in openapi.paths().items():
        for method in operations:
            if path != "/openapi.json":
                yield method, path


@pytest.fixture()
def real_path(db, people, loaded, practical_types, make_session, make_token):
    """``real_path("/sessions/{session_id}")``: the path with ids of Acme's records."""
    from lms.api import bookings

    session = make_session(type_id="open-practical")
    writer, _plain = make_token(people["acme"], scope="write")
    held = bookings.book_for(writer, session, people["learner"], utcnow())
    db.session.commit()
    ids = {
        "learner_id": people["learner"].public_id,
        "session_id": session.public_id,
        "booking_id": held.registration,
        "module_id": "alpha",
        "practical_type_id": GATED_TYPE,
    }
    return lambda path: path.format(**ids)


@pytest.mark.parametrize(("method", "path"), list(_operations()))
def test_every_operation_needs_a_valid_token_of_the_right_scope(
    client, db, people, make_token, real_path, method, path
):
    url = "/api/v1" + real_path(path)
    body = {"json": {"learner": people["second_learner"].public_id}} if method == "post" else {}

    def call(token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.open(url, method=method.upper(), headers=headers, **body)

    assert call().status_code == 401
    revoked, revoked_plain = make_token(people["acme"], scope="write")
    services.revoke_token(revoked, by=None, now=utcnow())
    expired, expired_plain = make_token(people["acme"], scope="write")
    expired.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert call(revoked_plain).status_code == 401
    assert call(expired_plain).status_code == 401
    reader = make_token(people["acme"], scope="read")[1]
    foreign = make_token(people["other"], scope="write")[1]
    if method == "get":
        assert call(reader).status_code == 200
        is_global = path in ("/modules", "/modules/{module_id}", "/practical-types")
        listed = path in ("/learners", "/sessions")
        assert call(foreign).status_code == (200 if is_global or listed else 404)
    else:
        assert call(reader).status_code == 403
        assert call(foreign).status_code == 404
        assert call(make_token(people["acme"], scope="write")[1]).status_code in (200, 201)
