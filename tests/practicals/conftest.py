"""Practicals fixtures: the shipped practical types, a world of people, sessions, passes."""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from lms.db_types import utcnow
from tests.conftest import login

SHIPPED = Path(__file__).resolve().parents[2] / "modules"
_days = itertools.count(3)


def load_types(db) -> None:
    """The shipped practical types, written as the sync would (references not checked)."""
    from lms.practicals import definitions
    from lms.practicals.models import PracticalType

    for path in definitions.find_definitions(SHIPPED):
        definition = definitions.read_definition(path).definition
        data = definition.as_data()
        db.session.add(
            PracticalType(
                id=definition.id,
                title=data["title"],
                summary=data["summary"],
                room_kind=data["room_kind"],
                duration_minutes=data["duration_minutes"],
                default_capacity=data["default_capacity"],
                prerequisites=data["prerequisites"],
                content_hash=definition.content_hash,
            )
        )
    db.session.commit()


@pytest.fixture()
def types(db):
    load_types(db)


@pytest.fixture()
def world(make_org, make_user, centre, types):
    """Learners, trainers and admins of Acme; another organisation's; a centre admin and
    trainer."""
    acme = make_org("Acme Pharma")
    other = make_org("Other Chemicals")
    return {
        "acme": acme,
        "other": other,
        "centre": centre,
        "learner": make_user("learner", acme),
        "other_learner": make_user("learner", acme),
        "trainer": make_user("trainer", acme),
        "admin": make_user("admin", acme),
        "foreign_learner": make_user("learner", other),
        "foreign_trainer": make_user("trainer", other),
        "foreign_admin": make_user("admin", other),
        "centre_admin": make_user("admin", centre),
        "centre_trainer": make_user("trainer", centre),
    }


@pytest.fixture()
def as_role(client, world):
    """``as_role("trainer")`` logs the client in as that person (or not: ``anonymous``)."""

    def do(role: str):
        if role != "anonymous":
            assert login(client, world[role]).status_code == 302
        return client

    return do


@pytest.fixture()
def passes(monkeypatch):
    """``passes(user, "gmp-fundamentals", score=0.9, issued=..., valid_until=...)``: a
    stand-in for the progress feature's qualifications (its adapter is tested apart)."""
    from lms.practicals import records
    from lms.practicals.rules import QualificationRecord

    held: dict[int, list[QualificationRecord]] = {}
    monkeypatch.setattr(records, "qualification_records", lambda uid: list(held.get(uid, [])))

    def grant(user, module_id, *, score=0.9, issued=None, valid_until=None):
        issued = issued or utcnow() - timedelta(days=1)
        valid_until = valid_until or issued + timedelta(days=365)
        held.setdefault(user.id, []).append(
            QualificationRecord(module_id, score, issued, valid_until)
        )

    grant.held = held
    return grant


@pytest.fixture()
def make_session(db, world):
    """``make_session("grade-b-gowning", starts_in=timedelta(days=3), capacity=2)``."""
    from lms.practicals import sessions
    from lms.practicals.models import PracticalType

    def factory(type_id="grade-b-gowning", *, starts_in=None, org=None, trainer=None, **kwargs):
        org = org or world["acme"]
        trainer = trainer or (world["centre_trainer"] if org.is_centre else world["trainer"])
        starts_in = starts_in if starts_in is not None else timedelta(days=next(_days))
        session = sessions.create_session(
            practical_type=db.session.get(PracticalType, type_id),
            organisation=org,
            starts_at=utcnow() + starts_in,
            room=kwargs.pop("room", "Clean room 2"),
            trainer=trainer,
            capacity=kwargs.pop("capacity", None),
            by=kwargs.pop("by", trainer),
            now=utcnow(),
            **kwargs,
        )
        db.session.commit()
        return session

    return factory


@pytest.fixture()
def gowning_ready(passes):
    """``gowning_ready(user)``: valid passes of both modules the gowning practical needs."""

    def grant(user, **kwargs):
        passes(user, "gmp-fundamentals", **kwargs)
        passes(user, "aseptic-handling", **kwargs)

    return grant
