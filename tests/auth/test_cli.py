"""Account commands: create-user, create-organisation, demo-setup."""

from __future__ import annotations

import sqlalchemy as sa

from lms.auth.models import User


def test_create_organisation_and_user_from_the_command_line(app, db, monkeypatch):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["lms", "create-organisation", "--name", "Acme Pharma", "--slug", "acme", "--centre"]
    )
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("LMS_NEW_USER_PASSWORD", "a long cli password")
    result = runner.invoke(
        args=[
            "lms",
            "create-user",
            "--email",
            "Admin@Acme.example.org",
            "--name",
            "Acme Admin",
            "--organisation",
            "acme",
            "--role",
            "admin",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "admin@acme.example.org"))
    assert user.role == "admin" and user.organisation.is_centre


def test_create_user_refuses_an_unknown_organisation_and_a_short_password(app, db, monkeypatch):
    runner = app.test_cli_runner()
    monkeypatch.setenv("LMS_NEW_USER_PASSWORD", "a long cli password")
    result = runner.invoke(
        args=[
            "lms",
            "create-user",
            "--email",
            "a@example.org",
            "--name",
            "A",
            "--organisation",
            "nope",
        ]
    )
    assert result.exit_code != 0
    assert "No organisation with the short name 'nope'" in result.output
    runner.invoke(args=["lms", "create-organisation", "--name", "Acme", "--slug", "acme"])
    monkeypatch.setenv("LMS_NEW_USER_PASSWORD", "short")
    result = runner.invoke(
        args=[
            "lms",
            "create-user",
            "--email",
            "a@example.org",
            "--name",
            "A",
            "--organisation",
            "acme",
        ]
    )
    assert result.exit_code != 0 and "at least 10 characters" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_demo_setup_is_refused_outside_development(app, db):
    result = app.test_cli_runner().invoke(args=["lms", "demo-setup"])
    assert result.exit_code != 0
    assert "only created in development" in result.output


def test_demo_setup_prints_random_passwords_once(app, db, monkeypatch):
    monkeypatch.setitem(app.config, "ENV", "development")
    runner = app.test_cli_runner()
    first = runner.invoke(args=["lms", "demo-setup"])
    assert first.exit_code == 0, first.output
    lines = [line.split() for line in first.output.splitlines() if "@demo.example.org" in line]
    assert [line[0] for line in lines] == ["admin", "trainer", "learner"]
    passwords = [line[2] for line in lines]
    assert len(set(passwords)) == 3 and all(len(p) >= 16 for p in passwords)
    second = runner.invoke(args=["lms", "demo-setup"])
    assert "no demo accounts created" in second.output
    client = app.test_client()
    from tests.conftest import login

    assert login(client, "admin@demo.example.org", passwords[0]).status_code == 302
