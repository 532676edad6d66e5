"""Lists come in pages: a cursor walks them without gaps or repeats, a page holds at most
the documented maximum, a tampered cursor is a 400, and the number of SQL queries of a
page does not grow with the items on it."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from lms.api.pagination import MAX_PAGE_SIZE
from lms.db_types import utcnow
from lms.extensions import db as _db
from lms.practicals import sessions as scheduling
from lms.practicals.models import PracticalType
from tests.api.conftest import QueryCounter, error_of


@pytest.fixture()
def token(people, make_token):
    return make_token(people["acme"])[1]


def _walk(api, path, token, limit):
    seen, pages, url = [], 0, f"{path}?limit={limit}"
    while url:
        response = api.get(url, token=token)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert len(body["data"]) <= limit
        seen.extend(item["id"] for item in body["data"])
        pages += 1
        link = body["links"]["next"]
        if link:
            assert response.headers["Link"] == f'<{link}>; rel="next"'
            query = parse_qs(urlsplit(link).query)
            assert query["cursor"] == [body["next_cursor"]] and query["limit"] == [str(limit)]
            url = f"{path}?limit={limit}&cursor={body['next_cursor']}"
        else:
            assert body["next_cursor"] is None and "Link" not in response.headers
            url = None
    return seen, pages


def test_learners_walk_in_pages(api, people, many_learners, token):
    added = many_learners(people["acme"], 12)
    seen, pages = _walk(api, "/learners", token, 5)
    expected = {people["learner"].public_id, people["second_learner"].public_id}
    expected |= {learner.public_id for learner in added}
    assert len(seen) == len(set(seen)) == 14
    assert set(seen) == expected
    assert pages == 3


def test_statements_walk_newest_first(api, people, add_statement, token):
    made = [add_statement(people["learner"], minutes_ago=minutes) for minutes in range(7)]
    seen, pages = _walk(api, f"/learners/{people['learner'].public_id}/statements", token, 3)
    assert seen == [statement.uuid for statement in made]
    assert pages == 3


def test_sessions_walk_by_start(api, make_session, token):
    made = [make_session(type_id="open-practical", starts_in=timedelta(days=d)) for d in (9, 3, 6)]
    seen, _pages = _walk(api, "/sessions", token, 2)
    assert seen == [made[1].public_id, made[2].public_id, made[0].public_id]


@pytest.mark.parametrize("limit", ["0", "-1", str(MAX_PAGE_SIZE + 1), "ten", "1.5", ""])
def test_a_page_size_outside_the_limits_is_400(api, token, limit):
    response = api.get(f"/learners?limit={limit}", token=token)
    assert response.status_code == 400
    assert error_of(response)["details"] == {"parameter": "limit"}


def test_the_largest_page_is_served(api, people, many_learners, token):
    many_learners(people["acme"], MAX_PAGE_SIZE + 3)
    body = api.get(f"/learners?limit={MAX_PAGE_SIZE}", token=token).get_json()
    assert len(body["data"]) == MAX_PAGE_SIZE and body["next_cursor"]


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!",
        _b64("not json"),
        _b64("[1, 2]"),
        _b64('["x"]'),
        _b64("{}"),
        _b64("[true]"),
        _b64("[1e400]"),
        "A" * 600,
    ],
)
def test_a_tampered_cursor_is_400(api, token, cursor):
    response = api.get(f"/learners?cursor={cursor}", token=token)
    assert response.status_code == 400
    assert error_of(response)["details"] == {"parameter": "cursor"}


@pytest.mark.parametrize("cursor", [_b64('["2030-01-01"]'), _b64('["x", 1]'), _b64("[1, 2]")])
def test_a_tampered_session_cursor_is_400(api, token, cursor):
    assert api.get(f"/sessions?cursor={cursor}", token=token).status_code == 400


def _count(api, path, token) -> int:
    api.get(path, token=token)  # warm caches and record the token's use
    with QueryCounter(_db.engine) as counter:
        response = api.get(path, token=token)
    assert response.status_code == 200
    return counter.count


@pytest.mark.parametrize("path", ["/learners?limit=100", "/sessions?limit=100&status=any"])
def test_query_count_does_not_grow_with_the_page(
    api, db, make_org, make_user, make_token, many_learners, practical_types, path
):
    counts = []
    for size in (10, 100):
        org = make_org()
        trainer = make_user("trainer", org)
        many_learners(org, size)
        practical = db.session.get(PracticalType, "open-practical")
        for day in range(size):
            scheduling.create_session(
                practical_type=practical,
                organisation=org,
                starts_at=utcnow() + timedelta(days=day + 2),
                room="Lab",
                trainer=trainer,
                capacity=3,
                by=trainer,
                now=utcnow(),
            )
        db.session.commit()
        counts.append(_count(api, path, make_token(org)[1]))
    assert counts[0] == counts[1], counts


def test_statements_query_count_does_not_grow(api, people, add_statement, token):
    counts = []
    for learner, size in ((people["learner"], 10), (people["second_learner"], 100)):
        for minutes in range(size):
            add_statement(learner, minutes_ago=minutes)
        counts.append(_count(api, f"/learners/{learner.public_id}/statements?limit=100", token))
    assert counts[0] == counts[1], counts
