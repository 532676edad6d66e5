"""Records read for many learners at once (``practicals.batch_rules``) are the records
``practicals.records`` reads one learner at a time, and give the same eligibility."""

# Fixtures imported from test_eligibility are named again as test parameters.
# ruff: noqa: F811

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.auth.models import User
from lms.db_types import utcnow
from lms.practicals import batch_rules, booking, records, rules
from lms.practicals.models import PracticalSession, PracticalType, SignOff, Waiver
from lms.progress.models import Qualification
from tests.dashboard.test_eligibility import LABS, grant, labs  # noqa: F401


@pytest.fixture()
def histories(db, world, make_user, labs, grant):
    """Learners with renewals, corrections, withdrawals, sign-offs (some corrected) and
    waivers, and one with nothing at all."""
    org, trainer = world["learner"].organisation, world["trainer"]
    people = [make_user("learner", org) for _ in range(5)]
    people.append(make_user("learner", org, learner_category="student"))
    first, second, third, fourth, fifth, student = people
    grant(first, "alpha", issued_days_ago=500, valid_days=365)
    grant(first, "alpha", score=0.95)  # a renewal
    grant(first, "beta", score=0.7)
    grant(second, "alpha", score=0.85)
    grant(third, "alpha")
    grant(student, "alpha", issued_days_ago=400, valid_days=365)
    current = {
        q.user_id: q
        for q in db.session.scalars(sa.select(Qualification).where(Qualification.kind == "pass"))
    }
    for learner, valid_until in ((second, None), (third, "withdrawn")):
        held = current[learner.id]
        until = (
            held.issued_at if valid_until == "withdrawn" else held.valid_until - timedelta(days=60)
        )
        db.session.add(
            Qualification(
                kind="correction",
                user_id=learner.id,
                module_id=held.module_id,
                version_id=held.version_id,
                score_scaled=held.score_scaled,
                issued_at=held.issued_at,
                valid_until=until,
                corrects_id=held.id,
                reason="Corrected by the trainer",
                author_id=trainer.id,
            )
        )
    past = PracticalSession(
        type_id="alpha-lab",
        organisation_id=org.id,
        starts_at=utcnow() - timedelta(days=20),
        ends_at=utcnow() - timedelta(days=20) + timedelta(hours=2),
        room="Lab 1",
        trainer_id=trainer.id,
        capacity=6,
        created_by_id=trainer.id,
    )
    db.session.add(past)
    db.session.flush()
    signed = {
        "session_id": past.id,
        "type_id": "alpha-lab",
        "type_content_hash": "0" * 64,
        "signer_id": trainer.id,
        "signer_name": "Tom Trainer",
        "meaning": "performed-and-approved-by",
        "signed_at": utcnow() - timedelta(days=20),
    }
    db.session.add(SignOff(learner_id=first.id, outcome="pass", **signed))
    failed = SignOff(learner_id=second.id, outcome="fail", **signed)
    passed = SignOff(learner_id=fourth.id, outcome="pass", **signed)
    db.session.add_all([failed, passed])
    db.session.flush()
    db.session.add(SignOff(learner_id=second.id, outcome="pass", corrects_id=failed.id, **signed))
    db.session.add(SignOff(learner_id=fourth.id, outcome="fail", corrects_id=passed.id, **signed))
    for learner, type_id, key in (
        (fifth, "alpha-lab", "qualification_valid:alpha"),
        (first, "beta-lab", "qualification_valid:beta"),
        (first, "alpha-lab", "qualification_valid:alpha"),
    ):
        db.session.add(
            Waiver(
                learner_id=learner.id,
                type_id=type_id,
                condition_key=key,
                reason="Equivalent certificate",
                signer_id=trainer.id,
                signer_name="Tom Trainer",
                meaning="approved-by",
            )
        )
    db.session.commit()
    return [*people, world["learner"]]


def _one_by_one(learner, type_id):
    found = records.for_type(records.learner_records(learner), learner, type_id)
    return found, sorted(found.qualifications, key=repr)


@pytest.mark.parametrize("by_query", [False, True])
def test_batch_records_are_the_one_by_one_records(db, histories, by_query):
    ids = [learner.id for learner in histories]
    if by_query:
        batch = batch_rules.load(histories, sa.select(User.id).where(User.id.in_(ids)))
    else:
        batch = batch_rules.load(histories)
    assert set(batch.base) == set(ids)
    seen_waiver = seen_sign_off = seen_pass = False
    for learner in histories:
        for type_id in LABS:
            expected, passes = _one_by_one(learner, type_id)
            found = batch.for_type(learner.id, type_id)
            assert sorted(found.qualifications, key=repr) == passes
            assert found.signed_off == expected.signed_off
            assert found.waived == expected.waived
            assert (found.role, found.learner_category) == (
                expected.role,
                expected.learner_category,
            )
            seen_waiver |= bool(found.waived)
            seen_sign_off |= bool(found.signed_off)
            seen_pass |= bool(found.qualifications)
    assert seen_waiver and seen_sign_off and seen_pass  # the comparison compared something


def test_batch_eligibility_is_booking_eligibility(db, histories, world):
    session = PracticalSession(
        type_id="beta-lab",
        organisation_id=world["trainer"].organisation_id,
        starts_at=utcnow() + timedelta(days=30),
        ends_at=utcnow() + timedelta(days=30, hours=2),
        room="Lab 2",
        trainer_id=world["trainer"].id,
        capacity=4,
        created_by_id=world["trainer"].id,
    )
    batch = batch_rules.load(histories)
    outcomes = set()
    for type_id in LABS:
        session.type_id = type_id
        session.practical_type = db.session.get(PracticalType, type_id)
        rule = rules.rule_from_data(LABS[type_id])
        ids = [learner.id for learner in histories]
        found = batch_rules.evaluate_many(rule, batch, ids, type_id, session.starts_at)
        for learner in histories:
            assert found[learner.id] == booking.evaluation_for(session, learner), (
                learner.display_name,
                type_id,
            )
            outcomes.add(found[learner.id].eligible)
    assert outcomes == {True, False}


def test_an_empty_batch_reads_nothing(db):
    assert batch_rules.load([]) == batch_rules.RecordsBatch()
