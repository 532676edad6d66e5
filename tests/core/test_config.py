"""Configuration layers and start-up validation (no database needed)."""

from __future__ import annotations

import pytest

from lms import create_app
from lms.config import ConfigError, database_uri


def make(tmp_path, monkeypatch, **overrides):
    monkeypatch.chdir(tmp_path)
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite3", **overrides})


@pytest.mark.parametrize("secret", [None, "", "dev", "changeme", "short-secret"])
def test_production_refuses_to_start_without_a_real_secret(tmp_path, monkeypatch, secret):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="LMS_SECRET_KEY"):
        make(tmp_path, monkeypatch, ENV="production", SECRET_KEY=secret)


def test_production_with_a_real_secret_uses_secure_cookies(tmp_path, monkeypatch):
    app = make(tmp_path, monkeypatch, ENV="production", SECRET_KEY="s" * 40)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_generates_a_secret_once_and_keeps_it(tmp_path, monkeypatch):
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    first = create_app({"ENV": "development", "DATABASE_URL": "sqlite://"})
    second = create_app({"ENV": "development", "DATABASE_URL": "sqlite://"})
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["SESSION_COOKIE_SECURE"] is False


def test_environment_variables_override_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_PUBLIC_BASE_URL", "https://training.example.org")
    monkeypatch.setenv("LMS_PASSWORD_MIN_LENGTH", "14")
    app = make(tmp_path, monkeypatch, ENV="testing", SECRET_KEY="t" * 40)
    assert app.config["PUBLIC_BASE_URL"] == "https://training.example.org"
    assert app.config["PASSWORD_MIN_LENGTH"] == 14


def test_unknown_environment_is_refused(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="LMS_ENV"):
        make(tmp_path, monkeypatch, ENV="staging", SECRET_KEY="t" * 40)


@pytest.mark.parametrize(
    "url,expected",
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_selects_psycopg_for_postgresql(url, expected, tmp_path):
    assert database_uri(url, tmp_path) == expected


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path):
    assert database_uri("", tmp_path) == f"sqlite:///{tmp_path / 'lms.sqlite3'}"


@pytest.mark.parametrize(
    "key", ["XAPI_READ_TIMEOUT", "LTI_HTTP_TIMEOUT", "CMI5_CONNECT_TIMEOUT", "CMI5_READ_TIMEOUT"]
)
@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_time_outs_of_outgoing_calls_must_be_positive_seconds(tmp_path, monkeypatch, key, value):
    monkeypatch.setenv(f"LMS_{key}", value)
    with pytest.raises(ConfigError, match=f"LMS_{key} must be a positive number of seconds"):
        make(tmp_path, monkeypatch, ENV="testing", SECRET_KEY="t" * 40)


def test_outgoing_calls_of_lti_and_cmi5_have_time_outs_by_default(tmp_path, monkeypatch):
    from lms.cmi5.remote import LmsClient
    from lms.lti.tool import http_session

    app = make(tmp_path, monkeypatch, ENV="testing", SECRET_KEY="t" * 40)
    with app.app_context():
        assert http_session().timeout == (5.0, 15.0)
        assert LmsClient.from_config(app.config).timeout == (5.0, 10.0)
    app.config["LTI_HTTP_TIMEOUT"] = 2
    with app.app_context():
        assert http_session().timeout == (2.0, 2.0)
