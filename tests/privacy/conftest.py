"""Privacy fixtures: two learners of one organisation with records of every kind, written
through the features' services where they have one, straight into the tables otherwise."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import xapi
from lms.catalog import services as catalog
from lms.catalog.models import Module
from lms.dashboard import cohorts
from lms.db_types import utcnow
from lms.practicals import sessions
from lms.practicals.models import Attendance, Booking, PracticalType, SignOff, Waiver
from lms.progress.models import Qualification
from lms.quiz.models import Attempt, AttemptAnswer
from lms.xapi import services as lrs
from lms.xapi.models import Statement
from tests.catalog.conftest import loaded, module_root, sync_modules  # noqa: F401
from tests.practicals.conftest import load_types
from tests.xapi.events import every_event


def _learning(db, learner, trainer, session, cohort, module):
    """One record of every kind for ``learner`` (statements included)."""
    now = utcnow()
    catalog.mark_read(learner, module, module.current_version.lessons[0])
    attempt = Attempt(
        user_id=learner.id,
        module_id=module.id,
        version_id=module.current_version_id,
        registration=str(uuid.uuid4()),
        number=1,
        started_at=now - timedelta(minutes=20),
        submitted_at=now - timedelta(minutes=5),
        state="submitted",
        draw=[{"id": "single", "options": ["a", "b"]}],
        score_raw=9,
        score_max=10,
        score_scaled=0.9,
        passed=True,
        answers=[
            AttemptAnswer(
                question_id="single",
                response=f"answer of {learner.public_id}",
                saved_at=now - timedelta(minutes=6),
                score=1,
                correct=True,
            )
        ],
    )
    db.session.add(attempt)
    db.session.flush()
    db.session.add(
        Qualification(
            kind="pass",
            user_id=learner.id,
            module_id=module.id,
            version_id=module.current_version_id,
            attempt_id=attempt.id,
            score_scaled=0.9,
            issued_at=now,
            valid_until=now + timedelta(days=365),
        )
    )
    booking = Booking(session_id=session.id, learner_id=learner.id, state="booked", position=1)
    db.session.add(booking)
    db.session.flush()
    db.session.add(
        Attendance(
            session_id=session.id,
            learner_id=learner.id,
            booking_id=booking.id,
            checked_in_by_id=trainer.id,
        )
    )
    db.session.add(
        SignOff(
            session_id=session.id,
            learner_id=learner.id,
            type_id=session.type_id,
            type_content_hash=session.practical_type.content_hash,
            outcome="pass",
            comments=f"Well done {learner.display_name}",
            signer_id=trainer.id,
            signer_name=trainer.display_name,
            meaning="performed-and-approved-by",
        )
    )
    db.session.add(
        Waiver(
            learner_id=learner.id,
            type_id=session.type_id,
            condition_key=f"qualification_valid:{module.id}",
            reason=f"Prior experience of {learner.display_name}",
            session_id=session.id,
            signer_id=trainer.id,
            signer_name=trainer.display_name,
            meaning="approved-by",
        )
    )
    cohorts.add_member(cohort, learner.public_id, by=trainer)
    for event in every_event(learner, trainer):
        xapi.record(event)
    db.session.commit()
    return {"attempt": attempt, "booking": booking}


@pytest.fixture()
def records(db, make_org, make_user, loaded):  # noqa: F811
    """Acme (``mbox`` actors) with an LRS, two learners with records of every kind, their
    trainer and admin; ``other`` is another organisation's admin."""
    load_types(db)
    acme = make_org("Acme Pharma", actor_mode="mbox")
    trainer = make_user("trainer", acme)
    admin = make_user("admin", acme)
    alice = make_user(
        "learner", acme, email="alice.martin@example.org", display_name="Alice Martin"
    )
    bruno = make_user("learner", acme, email="bruno.costa@example.org", display_name="Bruno Costa")
    endpoint = lrs.create_endpoint(
        organisation=acme, name="Acme LRS", url="https://lrs.example.org/xapi", key="k", secret="s"
    )
    session = sessions.create_session(
        practical_type=db.session.get(PracticalType, "grade-b-gowning"),
        organisation=acme,
        starts_at=utcnow() + timedelta(days=5),
        room="Clean room 2",
        trainer=trainer,
        capacity=4,
        by=trainer,
        now=utcnow(),
    )
    cohort = cohorts.create_cohort(acme, "March intake", by=trainer)
    module = db.session.get(Module, "alpha")
    db.session.commit()
    return {
        "acme": acme,
        "trainer": trainer,
        "admin": admin,
        "endpoint": endpoint,
        "session": session,
        "alice": alice,
        "bruno": bruno,
        "alice_records": _learning(db, alice, trainer, session, cohort, module),
        "bruno_records": _learning(db, bruno, trainer, session, cohort, module),
    }


def statements_of(db, user) -> list[Statement]:
    return list(
        db.session.scalars(
            sa.select(Statement).where(Statement.user_id == user.id).order_by(Statement.id)
        )
    )
