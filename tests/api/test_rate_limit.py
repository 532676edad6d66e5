"""Each token has its own budget of calls (``API_RATE_LIMIT``), shared by every route."""

from __future__ import annotations

import pytest

from lms import create_app
from lms.config import ConfigError
from tests.api.conftest import error_of
from tests.conftest import test_config


@pytest.fixture()
def three_a_minute(app, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")


def test_past_the_limit_the_token_gets_429_with_retry_after(
    api, people, make_token, three_a_minute
):
    _token, plain = make_token(people["acme"])
    for path in ("/modules", "/learners", "/sessions"):
        assert api.get(path, token=plain).status_code == 200
    response = api.get("/practical-types", token=plain)
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1


def test_the_limit_counts_per_token(api, people, make_token, three_a_minute):
    first = make_token(people["acme"])[1]
    second = make_token(people["acme"])[1]
    for _ in range(3):
        assert api.get("/modules", token=first).status_code == 200
    assert api.get("/modules", token=first).status_code == 429
    assert api.get("/modules", token=second).status_code == 200


def test_requests_without_a_valid_token_do_not_spend_a_tokens_budget(
    api, people, make_token, three_a_minute
):
    _token, plain = make_token(people["acme"])
    for _ in range(5):
        assert api.get("/modules", token="lms_000000000000_nope").status_code == 401
    assert api.get("/modules", token=plain).status_code == 200


@pytest.mark.parametrize("limit", ["", "lots", "600 per fortnight"])
def test_an_unreadable_limit_refuses_to_start(tmp_path, limit):
    config = test_config(f"sqlite:///{tmp_path / 'x.sqlite3'}", API_RATE_LIMIT=limit)
    with pytest.raises(ConfigError, match="LMS_API_RATE_LIMIT"):
        create_app(config)
