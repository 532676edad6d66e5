"""What a token may read: its organisation's learners, sessions, bookings and statements.

Every lookup goes through the token, so another organisation's identifiers are simply
not found (a 404, never a 403 that would confirm they exist). A centre token sees
every organisation. Sessions of the centre are open to every organisation's learners
(as on the learners' own pages), so every token sees them, but on a session of another
organisation a token sees only the bookings of its own learners.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from lms.api import params
from lms.api.models import ApiToken
from lms.auth.models import Organisation, User
from lms.catalog.models import Module
from lms.extensions import db
from lms.practicals import records, rules
from lms.practicals.models import Booking, PracticalSession, PracticalType
from lms.xapi.models import Statement


def modules() -> sa.Select:
    """Every module with a version to serve (retired ones too: their status says so)."""
    return (
        sa.select(Module)
        .where(Module.current_version_id.is_not(None))
        .options(joinedload(Module.current_version))
    )


def find_module(module_id: str) -> Module | None:
    if not params.is_slug(module_id):
        return None
    return db.session.scalar(modules().where(Module.id == module_id))


def practical_types() -> sa.Select:
    return sa.select(PracticalType)


def find_practical_type(type_id: str) -> PracticalType | None:
    return db.session.get(PracticalType, type_id) if params.is_slug(type_id) else None


def learners(token: ApiToken) -> sa.Select:
    """The learner accounts the token sees (active or not)."""
    query = sa.select(User).where(User.role == "learner").options(joinedload(User.organisation))
    if not token.sees_everything:
        query = query.where(User.organisation_id == token.organisation_id)
    return query


def find_learner(token: ApiToken, public_id: str) -> User | None:
    if not params.is_uuid(public_id):
        return None
    return db.session.scalar(learners(token).where(User.public_id == public_id))


def sessions(token: ApiToken) -> sa.Select:
    """Sessions of the token's organisation and of the centre (all for a centre token)."""
    query = sa.select(PracticalSession).options(
        joinedload(PracticalSession.practical_type),
        joinedload(PracticalSession.organisation),
        joinedload(PracticalSession.trainer),
    )
    if not token.sees_everything:
        centre = sa.select(Organisation.id).where(Organisation.is_centre.is_(True))
        query = query.where(
            sa.or_(
                PracticalSession.organisation_id == token.organisation_id,
                PracticalSession.organisation_id.in_(centre),
            )
        )
    return query


def find_session(token: ApiToken, public_id: str) -> PracticalSession | None:
    if not params.is_uuid(public_id):
        return None
    return db.session.scalar(sessions(token).where(PracticalSession.public_id == public_id))


def bookings(token: ApiToken, session: PracticalSession) -> sa.Select:
    """The session's bookings the token sees: all on its organisation's own sessions (or
    for a centre token), else only those of its organisation's learners."""
    query = (
        sa.select(Booking)
        .where(Booking.session_id == session.id)
        .options(joinedload(Booking.learner))
    )
    if not token.sees_everything and session.organisation_id != token.organisation_id:
        own = sa.select(User.id).where(User.organisation_id == token.organisation_id)
        query = query.where(Booking.learner_id.in_(own))
    return query


def find_booking(token: ApiToken, session: PracticalSession, booking_id: str) -> Booking | None:
    """The booking whose id (its registration UUID) is ``booking_id``, if the token sees it."""
    if not params.is_uuid(booking_id):
        return None
    return db.session.scalar(bookings(token, session).where(Booking.registration == booking_id))


def statements(learner: User) -> sa.Select:
    """The xAPI statements about ``learner`` (the keyset orders them, newest first)."""
    return sa.select(Statement).where(Statement.user_id == learner.id)


def eligibility(learner: User, practical: PracticalType, at: datetime) -> rules.Evaluation:
    """Whether ``learner`` meets the practical type's prerequisites at ``at``, waivers
    included: the rule and records the booking service evaluates."""
    rule = rules.rule_from_data(practical.prerequisites)
    learner_records = records.for_type(records.learner_records(learner), learner, practical.id)
    return rules.evaluate(rule, learner_records, at)
