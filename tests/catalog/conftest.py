"""Catalog fixtures: package folders to load, and a world of people to browse them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import login

PACKAGES = Path(__file__).resolve().parent / "packages"
SHIPPED = Path(__file__).resolve().parents[2] / "modules"


@pytest.fixture()
def module_root(tmp_path) -> Path:
    """A copy of the good test packages (alpha; beta requires alpha), free to change."""
    root = tmp_path / "modules"
    shutil.copytree(PACKAGES / "good", root)
    return root


@pytest.fixture()
def sync_modules(db):
    """``sync_modules(root)`` loads the packages at ``root``, commits and returns the report."""
    from lms.catalog.sync import sync_packages

    def run(root: Path):
        report = sync_packages(root)
        db.session.commit()
        return report

    return run


@pytest.fixture()
def loaded(sync_modules, module_root):
    """The good test packages, loaded."""
    return sync_modules(module_root)


@pytest.fixture()
def world(make_org, make_user, centre):
    """A learner, trainer and admin of one organisation; another organisation's learner
    and admin; a centre admin."""
    acme = make_org("Acme Pharma")
    other = make_org("Other Chemicals")
    return {
        "learner": make_user("learner", acme),
        "trainer": make_user("trainer", acme),
        "admin": make_user("admin", acme),
        "other_learner": make_user("learner", other),
        "other_admin": make_user("admin", other),
        "centre_admin": make_user("admin", centre),
    }


@pytest.fixture()
def as_role(client, world):
    """``as_role("trainer")`` logs the client in as that person (or not, for anonymous)."""

    def do(role: str):
        if role != "anonymous":
            assert login(client, world[role]).status_code == 302
        return client

    return do


@pytest.fixture()
def passed(monkeypatch):
    """``passed(user_id_or_none, {"alpha"})``: stand-in for the progress feature's passes."""
    from lms.catalog import services

    passes: dict[int, set[str]] = {}
    monkeypatch.setattr(services, "passed_module_ids", lambda user: passes.get(user.id, set()))

    def grant(user, module_ids: set[str]) -> None:
        passes[user.id] = set(module_ids)

    return grant
