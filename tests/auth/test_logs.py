"""Logs never contain passwords, LRS secrets, reset links or session cookies, even with
every logger at DEBUG (SQL statements and their parameters included) and when a
database error is logged with its traceback."""

from __future__ import annotations

import logging

import pytest

from lms.xapi import services as xapi_services
from tests.auth.conftest import reset_link
from tests.conftest import DEFAULT_PASSWORD, csrf_token, login, post_form

WRONG = "Wr0ng guess of a password"
CHANGED = "Changed passphrase 2024"
RESET = "Reset passphrase from mail"
LRS_SECRET = "lrs-secret-5f9a2c7d"
CLI_SECRET = "cli-secret-0b3e8d1a"


@pytest.fixture()
def debug_logs(caplog):
    """Every logger at DEBUG, SQL at INFO (statements and parameters), from before the
    test's database connection opens (SQLAlchemy decides per connection)."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    return caplog


def endpoint_form(name: str) -> dict[str, str]:
    return {
        "organisation": "acme-pharma",
        "name": name,
        "url": "https://lrs.example.org/xapi/",
        "key": "the-key",
        "secret": LRS_SECRET,
        "xapi_version": "1.0.3",
        "batch_size": "100",
        "enabled": "y",
    }


def test_nothing_secret_reaches_the_logs(
    debug_logs, client, app, make_org, make_user, mailbox, monkeypatch
):
    admin = make_user("admin", make_org("Acme Pharma"))
    assert login(client, admin, WRONG).status_code == 200
    assert login(client, admin).status_code == 302
    cookies = {client.get_cookie("session").value}
    post_form(
        client,
        "/account/password",
        {"current_password": DEFAULT_PASSWORD, "new_password": CHANGED, "confirm": CHANGED},
    )
    cookies.add(client.get_cookie("session").value)
    post_form(client, "/logout", {}, form_path="/")

    token = csrf_token(client, "/password/forgot")
    client.post("/password/forgot", data={"email": admin.email, "csrf_token": token}, buffered=True)
    path = reset_link(mailbox.wait_for(1)[0])
    post_form(client, path, {"new_password": RESET, "confirm": RESET})
    assert login(client, admin, RESET).status_code == 302
    cookies.add(client.get_cookie("session").value)

    assert post_form(client, "/xapi/endpoints/new", endpoint_form("LRS one")).status_code == 302
    # A race the form's checks cannot see: the database refuses a duplicate name, and the
    # error is logged with its traceback and SQL.
    monkeypatch.setattr(xapi_services, "_check", lambda endpoint: None)
    assert post_form(client, "/xapi/endpoints/new", endpoint_form("LRS one")).status_code == 500
    result = app.test_cli_runner().invoke(
        args=["xapi", "endpoint", "add", "--organisation", "acme-pharma", "--name", "LRS two"]
        + ["--url", "https://lrs2.example.org/xapi", "--key", "k2"],
        env={"LMS_XAPI_ENDPOINT_SECRET": CLI_SECRET},
    )
    assert result.exit_code == 0, result.output

    logged = debug_logs.text
    # The test saw real logs: SQL with its parameters hidden, and the error's traceback.
    assert "INSERT INTO xapi_endpoint" in logged
    assert "unhandled error on POST /xapi/endpoints/new" in logged
    assert "IntegrityError" in logged
    secrets = [DEFAULT_PASSWORD, WRONG, CHANGED, RESET, LRS_SECRET, CLI_SECRET]
    secrets += [path.rsplit("/", 1)[1], *cookies]
    leaked = [secret for secret in secrets if secret in logged]
    assert leaked == []
