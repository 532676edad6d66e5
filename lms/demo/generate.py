"""The whole synthetic centre, in one transaction: ``generate`` adds and flushes, the
command commits."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from lms import audit
from lms.audit.models import AuditRecord
from lms.auth.models import Organisation, User
from lms.catalog.models import Enrolment, Lesson, LessonRead, Module, ModuleVersion
from lms.dashboard.models import Cohort, CohortMember
from lms.demo import catalog, outbox, people
from lms.demo.learning import Learning
from lms.demo.practicals import FULL_SCALE, Practicals, plan_types, write_types
from lms.demo.writer import Writer
from lms.extensions import db
from lms.practicals.models import (
    Attendance,
    Booking,
    PracticalSession,
    PracticalType,
    PracticalTypeRevision,
    SignOff,
    Waiver,
)
from lms.progress.models import Qualification
from lms.progress.rules import add_months
from lms.quiz.models import Attempt, AttemptAnswer
from lms.xapi.models import LrsEndpoint, Statement, StatementDelivery
from lms.xapi.statements import BuildSettings

AUDIT_ACTION = "demo.data.created"
#: Tables in the order their rows are written (a row after the rows it references).
ORDER = (
    Organisation,
    User,
    Cohort,
    CohortMember,
    Module,
    ModuleVersion,
    Lesson,
    PracticalType,
    PracticalTypeRevision,
    LrsEndpoint,
    Enrolment,
    LessonRead,
    Attempt,
    AttemptAnswer,
    Qualification,
    PracticalSession,
    Booking,
    Attendance,
    SignOff,
    Waiver,
    Statement,
    StatementDelivery,
)
#: Learners simulated between two writes.
LEARNERS_PER_WRITE = 300


class DatabaseNotEmpty(RuntimeError):
    """The database holds learners already and adding to them was not asked for."""


@dataclass
class Summary:
    seed: int
    months: int
    batch: int
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    #: E-mail addresses to log in with: the centre admin, a trainer of the largest
    #: organisation, and that organisation's name.
    logins: dict[str, str] = field(default_factory=dict)


def existing_learners() -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.role == "learner")
    )


def generate(
    *,
    learners: int,
    modules: int,
    seed: int,
    months: int,
    now: datetime,
    password_hash: str,
    append: bool = False,
) -> Summary:
    """Add a synthetic centre of ``learners`` learners and ``modules`` modules whose
    history spans the ``months`` months before ``now``; the same ``seed`` (and ``now``)
    gives the same data. Adds and flushes; the caller commits.

    Raises ``DatabaseNotEmpty`` when learners exist and ``append`` is False.
    """
    if existing_learners() and not append:
        raise DatabaseNotEmpty()
    started = time.perf_counter()
    rng = random.Random(seed)  # noqa: S311 (reproducible synthetic data, not secrets)
    batch = 1 + db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditRecord)
        .where(AuditRecord.action == AUDIT_ACTION)
    )
    tag = "" if batch == 1 else f".b{batch}"
    start = add_months(now, -months)
    writer = Writer(model.__table__ for model in ORDER)
    summary = Summary(seed=seed, months=months, batch=batch)

    orgs = people.plan_organisations(writer)
    people.write_organisations(writer, orgs, start - timedelta(days=730))
    people.plan_people(rng, orgs, learners, start, now, tag)
    people.write_people(writer, orgs, password_hash, now)
    planned = _catalogue(rng, writer, modules, start, now)
    types = plan_types(planned, set(db.session.scalars(sa.select(PracticalType.id))))
    write_types(writer, types, start - timedelta(days=30))
    secret = f"demo-{rng.getrandbits(128):032x}"
    scale = max(1.0, FULL_SCALE / learners)
    endpoints = outbox.plan_endpoints(writer, orgs, now, secret, scale)
    cohort_tag = "" if batch == 1 else f" (batch {batch})"
    cohorts = people.write_cohorts(rng, writer, orgs, now, cohort_tag)
    writer.flush()

    settings = BuildSettings(
        base_url=current_app.config["PUBLIC_BASE_URL"],
        platform=current_app.config["PLATFORM_NAME"],
        language=current_app.config["BABEL_DEFAULT_LOCALE"],
    )
    statements = outbox.Statements(rng, writer, settings, endpoints, now)
    titles = {slug: {"en": en, "fr": fr} for slug, en, fr in catalog.vocabulary.LESSON_TITLES}
    learning = Learning(rng, writer, statements, planned, titles, now)
    done = 0
    for org in orgs:
        for person in org.learners:
            learning.learner(person, org.trainers)
            done += 1
            if done % LEARNERS_PER_WRITE == 0:
                writer.flush()
    writer.flush()
    practicals = Practicals(rng, writer, statements, orgs, learning.qualifications, now)
    practicals.schedule(types, start)
    writer.flush()

    summary.rows = dict(writer.counts)
    summary.details = {
        "organisations": len([o for o in orgs if not o.existing]),
        "staff": sum(len(o.trainers) + len(o.admins) for o in orgs),
        "cohorts": cohorts,
        "module versions": sum(len(m.versions) for m in planned),
        "questions": sum(len(m.current.items) for m in planned),
        "attempt outcomes": dict(learning.tally.outcomes),
        "open attempts": learning.tally.open_attempts,
        "qualification corrections": learning.tally.corrections,
        "cancelled sessions": practicals.tally.cancelled_sessions,
        "bookings": dict(practicals.tally.bookings),
        "sign-offs": dict(practicals.tally.sign_offs),
        "waivers": practicals.tally.waivers,
        "statements": dict(statements.kinds),
        "deliveries": dict(statements.states),
        "write seconds": round(sum(writer.seconds.values()), 1),
    }
    summary.logins = _logins(orgs)
    audit.record(
        AUDIT_ACTION,
        actor_label="lms demo-data",
        target_type="database",
        details={"seed": seed, "learners": learners, "modules": modules, "months": months},
    )
    summary.seconds = time.perf_counter() - started
    return summary


def _catalogue(rng, writer: Writer, count: int, start: datetime, now: datetime):
    taken = set(db.session.scalars(sa.select(Module.id)))
    planned = catalog.plan_modules(rng, count, start, now, taken)
    catalog.write_modules(writer, planned)
    writer.flush()
    table = Module.__table__
    db.session.execute(
        sa.update(table)
        .where(table.c.id == sa.bindparam("module_id"))
        .values(current_version_id=sa.bindparam("version_id")),
        catalog.current_version_updates(planned),
    )
    return planned


def _logins(orgs: list[people.Org]) -> dict[str, str]:
    centre = next(o for o in orgs if o.kind == "centre")
    largest = max(orgs, key=lambda o: len(o.learners))
    found = {"organisation": largest.name}
    if centre.admins:
        found["centre admin"] = centre.admins[0].email
    if largest.trainers:
        found["trainer"] = largest.trainers[0].email
    return found
