"""``lms demo-data``: a small synthetic centre, consistent with the features' own rules."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.audit.models import AuditRecord
from lms.auth.models import Organisation, User
from lms.catalog.models import Enrolment, LessonRead, Module, ModuleVersion
from lms.catalog.questions import INTERACTION_TYPES
from lms.dashboard.models import Cohort, CohortMember
from lms.demo.generate import generate
from lms.demo.pages import dashboard_pages
from lms.practicals.models import Attendance, Booking, PracticalSession, SignOff, Waiver
from lms.progress.models import Qualification
from lms.progress.rules import add_months
from lms.quiz import grading
from lms.quiz.models import Attempt, AttemptAnswer
from lms.quiz.rules import has_passed
from lms.xapi import validation
from lms.xapi.models import LrsEndpoint, Statement, StatementDelivery
from tests.conftest import DEFAULT_PASSWORD, login

SMALL = ["--learners", "40", "--modules", "5", "--seed", "7"]


@pytest.fixture()
def run(app, db, clock):  # noqa: ARG001 (db: inside the test's transaction; clock: frozen)
    def invoke(*args: str, env=None):
        env = {"LMS_DEMO_PASSWORD": DEFAULT_PASSWORD} if env is None else env
        return app.test_cli_runner().invoke(args=["lms", "demo-data", *args], env=env)

    return invoke


@pytest.fixture()
def small(run):
    result = run(*SMALL)
    assert result.exit_code == 0, result.output
    return result


def _all(db, query) -> list:
    return list(db.session.scalars(query))


def _count(db, model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_the_command_reports_what_it_made_and_how_long_it_took(run):
    result = run("--learners", "12", "--modules", "2", env={})
    assert result.exit_code == 0, result.output
    assert re.search(r"Done in \d+\.\d s: [\d,]+ rows", result.output)
    assert re.search(r"user_account\s+12\b", result.output) is None
    assert re.search(r"xapi_statement\s+[\d,]+", result.output)
    assert re.search(r"password \(shown once\): \S{12,}", result.output)


def test_people_organisations_and_cohorts(db, small):
    learners = _all(db, sa.select(User).where(User.role == "learner"))
    assert len(learners) == 40
    assert {u.learner_category for u in learners} == {"worker", "job_seeker", "student", "teacher"}
    assert {u.sector for u in learners} == {"biopharma", "chemistry"}
    assert all(u.email.endswith(".example.org") for u in _all(db, sa.select(User)))
    orgs = _all(db, sa.select(Organisation))
    assert sum(o.is_centre for o in orgs) == 1 and len(orgs) >= 5
    for org in orgs:
        roles = Counter(
            db.session.scalars(sa.select(User.role).where(User.organisation_id == org.id))
        )
        assert roles["trainer"] >= 1 and roles["admin"] >= 1, org.name
    members = db.session.execute(
        sa.select(Cohort.organisation_id, User.organisation_id)
        .join(CohortMember, CohortMember.cohort_id == Cohort.id)
        .join(User, User.id == CohortMember.user_id)
    ).all()
    assert members and all(cohort_org == user_org for cohort_org, user_org in members)
    in_a_cohort = set(db.session.scalars(sa.select(CohortMember.user_id)))
    assert in_a_cohort == {u.id for u in learners}


def test_modules_have_current_versions_lessons_and_banks_of_every_type(db, small):
    modules = _all(db, sa.select(Module))
    assert len(modules) == 5
    kinds = set()
    for module in modules:
        version = module.current_version
        assert version is not None and set(version.title) == {"en", "fr"}
        assert version.sector in ("biopharma", "chemistry", "both")
        assert 3 <= len(version.lessons) <= 9
        assert all(lesson.minutes > 0 for lesson in version.lessons)
        assert 10 <= len(version.questions) <= 32
        settings = version.quiz_settings
        assert 0 < settings["pass_mark"] <= 1
        assert settings["questions_per_attempt"] <= len(version.questions)
        kinds |= {q["type"] for q in version.questions}
    assert kinds == set(INTERACTION_TYPES)


def test_attempts_are_graded_by_the_quiz_engine_and_passes_qualify(db, small):
    versions = {v.id: v for v in _all(db, sa.select(ModuleVersion))}
    attempts = _all(db, sa.select(Attempt).where(Attempt.state == "submitted"))
    assert len(attempts) > 40
    answers = defaultdict(list)
    for answer in _all(db, sa.select(AttemptAnswer)):
        answers[answer.attempt_id].append(answer)
    qualifications = {
        q.attempt_id: q
        for q in _all(db, sa.select(Qualification).where(Qualification.kind == "pass"))
    }
    for attempt in attempts:
        version = versions[attempt.version_id]
        bank = {q["id"]: q for q in version.questions}
        drawn = [entry["id"] for entry in attempt.draw]
        assert len(drawn) == version.quiz_settings["questions_per_attempt"]
        for answer in answers[attempt.id]:
            grade = grading.grade(bank[answer.question_id], answer.response)
            assert (answer.score, answer.correct) == (grade.score, grade.correct)
        assert attempt.score_max == len(drawn) * grading.QUESTION_MAX
        assert attempt.score_raw == round(sum(a.score for a in answers[attempt.id]), 6)
        assert attempt.passed == has_passed(
            version.quiz_settings, attempt.score_raw, attempt.score_max
        )
        assert attempt.submitted_at > attempt.started_at
        if attempt.passed:
            issued = qualifications[attempt.id]
            assert issued.issued_at == attempt.submitted_at
            assert issued.valid_until == add_months(attempt.submitted_at, version.validity_months)
        else:
            assert attempt.id not in qualifications
    outcomes = Counter(a.passed for a in attempts)
    assert outcomes[True] and outcomes[False]


def test_ability_and_difficulty_make_item_statistics_look_real(db, run):
    """Right answers come more from learners who score well (discrimination) and some
    questions are harder than others (facility)."""
    assert run("--learners", "120", "--modules", "2", "--seed", "3").exit_code == 0
    rows = db.session.execute(
        sa.select(
            Attempt.module_id,
            AttemptAnswer.question_id,
            AttemptAnswer.correct,
            Attempt.score_scaled,
        )
        .join(Attempt, Attempt.id == AttemptAnswer.attempt_id)
        .where(Attempt.state == "submitted")
    ).all()
    by_item = defaultdict(list)
    for module_id, question_id, correct, score in rows:
        by_item[(module_id, question_id)].append((bool(correct), score))
    facilities, correlations = [], []
    for answered in by_item.values():
        if len(answered) < 20:
            continue
        right = [score for correct, score in answered if correct]
        wrong = [score for correct, score in answered if not correct]
        facilities.append(len(right) / len(answered))
        if right and wrong:
            correlations.append(sum(right) / len(right) - sum(wrong) / len(wrong))
    assert len(facilities) >= 15
    assert max(facilities) - min(facilities) > 0.3
    assert sum(correlations) / len(correlations) > 0.05
    assert sum(c > 0 for c in correlations) > 0.7 * len(correlations)


def test_reads_statements_and_deliveries_follow_the_events(db, small, clock):
    enrolments = _count(db, Enrolment)
    assert enrolments and _count(db, LessonRead)
    kinds = Counter(db.session.scalars(sa.select(Statement.kind)))
    drawn = sum(
        len(a.draw) for a in _all(db, sa.select(Attempt).where(Attempt.state == "submitted"))
    )
    assert kinds["question.answered"] == drawn
    assert kinds["lesson.experienced"] == _count(db, LessonRead)
    assert kinds["attempt.passed"] == _count(db, Attempt, Attempt.passed.is_(True))
    assert kinds["module.launched"] == kinds["module.initialized"] >= enrolments
    assert kinds["practical.attended"] == _count(db, Attendance)
    for statement in _all(db, sa.select(Statement).limit(400)):
        body = json.loads(statement.body)
        assert validation.problems(body) == [], statement.kind
        assert body["id"] == statement.uuid and body["verb"]["id"] == statement.verb
    deliveries = _all(db, sa.select(StatementDelivery))
    assert {d.state for d in deliveries} >= {"delivered", "pending"}
    enabled = {e.id for e in _all(db, sa.select(LrsEndpoint).where(LrsEndpoint.enabled))}
    centre = db.session.scalar(
        sa.select(LrsEndpoint).join(Organisation).where(Organisation.is_centre.is_(True))
    )
    assert {d.endpoint_id for d in deliveries} <= enabled
    paused = db.session.scalar(sa.select(LrsEndpoint).where(LrsEndpoint.paused_reason.is_not(None)))
    assert paused is not None
    for delivery in deliveries:
        if delivery.endpoint_id == paused.id and delivery.created_at > paused.paused_at:
            assert delivery.state == "pending"
        elif delivery.created_at < clock.now() - timedelta(minutes=2):
            assert delivery.state in ("delivered", "parked") or delivery.endpoint_id != centre.id
    assert all(d.response == "HTTP 200" for d in deliveries if d.state == "delivered")


def test_practical_sessions_follow_the_booking_rules(db, small, clock):
    sessions = _all(db, sa.select(PracticalSession))
    assert any(s.starts_at > clock.now() for s in sessions)
    assert any(s.ends_at < clock.now() for s in sessions)
    for session in sessions:
        bookings = _all(db, sa.select(Booking).where(Booking.session_id == session.id))
        seats = [b for b in bookings if b.state == "booked"]
        assert len(seats) <= session.capacity
        if any(b.state == "waiting" for b in bookings):
            assert len(seats) == session.capacity or session.starts_at < clock.now()
    attended = {(a.session_id, a.learner_id) for a in _all(db, sa.select(Attendance))}
    booked = {
        (b.session_id, b.learner_id)
        for b in _all(db, sa.select(Booking).where(Booking.state == "booked"))
    }
    assert attended and attended <= booked
    signed = {(s.session_id, s.learner_id) for s in _all(db, sa.select(SignOff))}
    assert signed and signed <= attended
    for waiver in _all(db, sa.select(Waiver)):
        assert waiver.condition_key.split(":")[0] in ("qualification_valid", "module_passed")


def test_a_database_with_learners_is_refused_unless_appending(db, run, small):
    before = _count(db, User)
    refused = run(*SMALL)
    assert refused.exit_code == 1
    assert "already has learners" in refused.output
    assert _count(db, User) == before
    added = run("--learners", "10", "--modules", "2", "--append")
    assert added.exit_code == 0, added.output
    assert _count(db, User, User.role == "learner") == 50
    assert _count(db, Organisation, Organisation.is_centre.is_(True)) == 1
    assert _count(db, AuditRecord, AuditRecord.action == "demo.data.created") == 2


def test_the_audit_trail_still_verifies(app, small):
    result = app.test_cli_runner().invoke(args=["lms", "audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def _snapshot(db) -> dict:
    def rows(query):
        return sorted(tuple(map(str, row)) for row in db.session.execute(query))

    return {
        "users": rows(
            sa.select(User.public_id, User.email, User.display_name, User.learner_category)
        ),
        "cohorts": rows(sa.select(Cohort.public_id, Cohort.name, Cohort.archived_at)),
        "versions": rows(sa.select(ModuleVersion.module_id, ModuleVersion.content_hash)),
        "attempts": rows(sa.select(Attempt.public_id, Attempt.score_raw, Attempt.submitted_at)),
        "qualifications": rows(sa.select(Qualification.code, Qualification.valid_until)),
        "statements": rows(sa.select(Statement.uuid, Statement.body)),
        "sessions": rows(sa.select(PracticalSession.public_id, PracticalSession.starts_at)),
        "bookings": rows(sa.select(Booking.registration, Booking.state, Booking.created_at)),
    }


def test_the_same_seed_gives_the_same_data(db, clock):
    def once(seed: int) -> dict:
        nested = db.session.begin_nested()
        generate(learners=25, modules=3, seed=seed, months=6, now=clock.now(), password_hash="x")
        db.session.flush()
        snapshot = _snapshot(db)
        nested.rollback()
        return snapshot

    first, second, other = once(11), once(11), once(12)
    assert first == second
    assert first["users"] != other["users"] and first["statements"] != other["statements"]


def test_every_dashboard_page_renders_for_a_trainer_of_the_data(app, db, small, make_client):
    largest = db.session.scalar(
        sa.select(User.organisation_id)
        .where(User.role == "learner")
        .group_by(User.organisation_id)
        .order_by(sa.func.count().desc())
        .limit(1)
    )
    trainer = db.session.scalar(
        sa.select(User).where(User.organisation_id == largest, User.role == "trainer")
    )
    pages, _skipped = dashboard_pages(app, trainer)
    assert {"dashboard.index", "dashboard.learner", "dashboard.cohort"} <= {
        p.endpoint for p in pages
    }
    client = make_client()
    assert login(client, trainer.email, DEFAULT_PASSWORD).status_code == 302
    names = set(
        db.session.scalars(
            sa.select(User.display_name).where(
                User.organisation_id == largest, User.role == "learner"
            )
        )
    )
    for page in pages:
        response = client.get(page.path)
        assert response.status_code == 200, page.path
    matrix = client.get("/dashboard/").get_data(as_text=True)
    assert any(name in matrix for name in names)
