"""Qualifications: issued by a pass, renewed by another, corrected by new records only."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.catalog import services as catalog
from lms.catalog.models import Module
from lms.progress import qualifications, services
from lms.progress.models import Qualification
from lms.progress.qualifications import QualificationError
from lms.progress.rules import add_months
from lms.quiz import services as quiz
from tests.conftest import DEFAULT_PASSWORD
from tests.quiz.helpers import attempt_form


@pytest.fixture()
def alpha(db, loaded):
    return db.session.get(Module, "alpha")


def take(db, learner, module, right=True):
    attempt = quiz.start_attempt(learner, module)
    questions = quiz.questions_of(attempt)
    quiz.save_answers(attempt, attempt_form(questions, right), [q["id"] for q in questions])
    outcome = quiz.submit_attempt(attempt)
    db.session.commit()
    return outcome.attempt


def test_a_pass_qualifies_for_the_module_validity(db, alpha, world, clock):
    learner = world["learner"]
    take(db, learner, alpha)
    [qualification] = qualifications.current_qualifications(learner).values()
    assert qualification.issued_at == clock.now()
    assert qualification.valid_until == add_months(clock.now(), 12)
    assert services.passed_module_ids(learner) == {"alpha"}
    assert catalog.passed_module_ids(learner) == {"alpha"}
    assert services.passed_module_ids(learner, at=clock.now() + timedelta(days=366)) == set()
    actions = db.session.scalars(sa.select(AuditRecord.action)).all()
    assert "progress.qualification.issued" in actions


def test_passing_the_prerequisite_opens_the_dependent_module(db, alpha, world):
    beta = db.session.get(Module, "beta")
    learner = world["learner"]
    assert catalog.gate(learner, beta, None, catalog.prerequisites_of(learner, beta))
    take(db, learner, alpha)
    assert catalog.gate(learner, beta, None, catalog.prerequisites_of(learner, beta)) is None


def test_the_qualification_expires_and_re_passing_renews_it(db, alpha, world, clock):
    learner = world["learner"]
    take(db, learner, alpha)
    clock.advance(days=400)
    progress = services.module_progress(learner, alpha)
    assert progress.status.code == "expired"
    take(db, learner, alpha)
    rows = db.session.scalars(sa.select(Qualification).order_by(Qualification.id)).all()
    assert len(rows) == 2
    current = qualifications.current_qualifications(learner)["alpha"]
    assert current.id == rows[1].id and current.valid_until == add_months(clock.now(), 12)
    assert services.module_progress(learner, alpha).status.code == "passed"


def test_expiry_within_30_days_is_flagged(db, alpha, world, clock):
    learner = world["learner"]
    take(db, learner, alpha)
    assert not services.module_progress(learner, alpha).expires_soon
    clock.advance(days=340)
    assert services.module_progress(learner, alpha).expires_soon


def test_status_best_score_and_attempts_left(db, alpha, world, clock):
    learner = world["learner"]
    assert services.module_progress(learner, alpha).status.code == "not_started"
    take(db, learner, alpha, right=False)
    progress = services.module_progress(learner, alpha)
    assert progress.status.code == "locked"
    assert progress.status.until == clock.now() + timedelta(minutes=60)
    assert (progress.attempts_left, progress.best_score) == (2, 0.0)
    clock.advance(minutes=61)
    assert services.module_progress(learner, alpha).status.code == "failed"


def test_a_trainer_correction_is_a_new_record_with_reason_in_the_audit_trail(
    db, alpha, world, clock
):
    learner, trainer = world["learner"], world["trainer"]
    take(db, learner, alpha)
    original = qualifications.current_qualifications(learner)["alpha"]
    before = (original.valid_until, original.kind, original.reason)
    correction = qualifications.correct(
        original,
        by=trainer,
        password=DEFAULT_PASSWORD,
        valid_until=clock.now(),
        reason="Learner was coached during the quiz",
        now=clock.now(),
    )
    db.session.commit()
    db.session.refresh(original)
    assert (original.valid_until, original.kind, original.reason) == before
    assert correction.corrects_id == original.id and correction.author_id == trainer.id
    assert services.passed_module_ids(learner) == set()
    record = db.session.scalar(
        sa.select(AuditRecord).where(AuditRecord.action == "progress.qualification.corrected")
    )
    assert record.actor_id == trainer.id
    assert json.loads(record.details)["reason"] == "Learner was coached during the quiz"


@pytest.mark.parametrize(
    "who,password,reason,error",
    [
        ("trainer", "wrong password", "A fine reason", QualificationError),
        ("trainer", DEFAULT_PASSWORD, "", QualificationError),
        ("other_admin", DEFAULT_PASSWORD, "A fine reason", PermissionError),
        ("learner", DEFAULT_PASSWORD, "A fine reason", PermissionError),
    ],
)
def test_corrections_need_the_right_person_password_and_reason(
    db, alpha, world, clock, who, password, reason, error
):
    take(db, world["learner"], alpha)
    original = qualifications.current_qualifications(world["learner"])["alpha"]
    with pytest.raises(error):
        qualifications.correct(
            original,
            by=world[who],
            password=password,
            valid_until=clock.now(),
            reason=reason,
            now=clock.now(),
        )


def test_only_the_current_record_can_be_corrected(db, alpha, world, clock):
    take(db, world["learner"], alpha)
    original = qualifications.current_qualifications(world["learner"])["alpha"]
    qualifications.correct(
        original,
        by=world["centre_admin"],
        password=DEFAULT_PASSWORD,
        valid_until=clock.now() + timedelta(days=30),
        reason="Shortened validity",
        now=clock.now(),
    )
    with pytest.raises(QualificationError):
        qualifications.correct(
            original,
            by=world["trainer"],
            password=DEFAULT_PASSWORD,
            valid_until=clock.now(),
            reason="Second go",
            now=clock.now(),
        )


def test_a_refused_correction_signature_signs_nothing_but_is_audited(db, alpha, world, clock):

    take(db, world["learner"], alpha)
    original = qualifications.current_qualifications(world["learner"])["alpha"]
    with pytest.raises(qualifications.SignatureError):
        qualifications.correct(
            original,
            by=world["trainer"],
            password="not my password",
            valid_until=clock.now(),
            reason="A fine reason",
            now=clock.now(),
        )
    refused = db.session.scalar(
        sa.select(AuditRecord).where(AuditRecord.action == "signature.refused")
    )
    assert refused.actor_id == world["trainer"].id
    assert json.loads(refused.details)["action"] == "qualification.correct"
    assert qualifications.current_qualifications(world["learner"])["alpha"].id == original.id
