"""A learner's whole record for trainers: attempts, qualifications (with corrections),
statements in plain words, bookings, sign-offs and waivers."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from lms.auth.models import User
from lms.dashboard import batch
from lms.dashboard.models import Cohort, CohortMember
from lms.extensions import db
from lms.practicals.models import Booking, PracticalSession, SignOff, Waiver
from lms.progress.models import Qualification
from lms.quiz.models import Attempt
from lms.xapi import feed
from lms.xapi import queries as xapi_queries

#: The most recent statements shown (the LRS keeps the full record).
STATEMENT_LIMIT = 200


@dataclass
class History:
    learner: User
    cohorts: list[Cohort]
    #: Module id -> title (every module with a loaded version).
    module_titles: dict[str, dict[str, str]]
    #: Practical type id -> title.
    practical_titles: dict[str, dict[str, str]]
    attempts: list[Attempt]
    #: Every qualification record, newest first; corrections point at what they correct.
    qualifications: list[Qualification]
    #: Ids of the records a later correction replaces.
    corrected_ids: set[int]
    statements: list[feed.FeedEntry]
    bookings: list[Booking]
    sign_offs: list[SignOff]
    waivers: list[Waiver]


def _all(query: sa.Select) -> list:
    return list(db.session.scalars(query))


def history(learner: User) -> History:
    """Everything recorded about ``learner`` (the caller has checked access)."""
    columns = batch.columns()
    records = _all(
        sa.select(Qualification)
        .where(Qualification.user_id == learner.id)
        .options(sa.orm.joinedload(Qualification.author))
        .order_by(Qualification.id.desc())
    )
    return History(
        learner=learner,
        cohorts=_all(
            sa.select(Cohort)
            .join(CohortMember, CohortMember.cohort_id == Cohort.id)
            .where(CohortMember.user_id == learner.id)
            .order_by(Cohort.name)
        ),
        module_titles={m.id: m.current_version.title for m in columns.modules},
        practical_titles={t.id: t.title for t in columns.practical_types},
        attempts=_all(
            sa.select(Attempt)
            .where(Attempt.user_id == learner.id)
            .order_by(Attempt.started_at.desc(), Attempt.id.desc())
        ),
        qualifications=records,
        corrected_ids={q.corrects_id for q in records if q.corrects_id is not None},
        statements=[
            feed.describe(s) for s in _all(xapi_queries.feed(learner).limit(STATEMENT_LIMIT))
        ],
        bookings=_all(
            sa.select(Booking)
            .join(PracticalSession, Booking.session_id == PracticalSession.id)
            .where(Booking.learner_id == learner.id)
            .options(sa.orm.contains_eager(Booking.session))
            .order_by(PracticalSession.starts_at.desc(), Booking.id.desc())
        ),
        sign_offs=_all(
            sa.select(SignOff)
            .where(SignOff.learner_id == learner.id)
            .order_by(SignOff.signed_at.desc(), SignOff.id.desc())
        ),
        waivers=_all(
            sa.select(Waiver)
            .where(Waiver.learner_id == learner.id)
            .order_by(Waiver.signed_at.desc(), Waiver.id.desc())
        ),
    )
