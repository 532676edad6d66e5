"""Who may see, book, manage and run which practical session.

Sessions belong to an organisation. Its trainers and admins manage them (create, edit,
cancel, see the roster); only its trainers run them (check-in, sign-off, waivers: acts
a trainer signs). A centre admin sees and manages every session. A learner books the
sessions of their own organisation and of the centre.
"""

from __future__ import annotations

import sqlalchemy as sa

from lms.auth.models import Organisation
from lms.practicals.models import PracticalSession


def _is_centre_admin(user) -> bool:
    return user.is_authenticated and user.is_centre_admin


def can_book(user, session: PracticalSession) -> bool:
    """A learner of the session's organisation, or of any organisation for a centre's."""
    if not user.is_authenticated or user.role != "learner":
        return False
    return session.organisation_id == user.organisation_id or session.organisation.is_centre


def can_manage(user, session: PracticalSession) -> bool:
    if _is_centre_admin(user):
        return True
    return user.role in ("trainer", "admin") and user.organisation_id == session.organisation_id


def can_run(user, session: PracticalSession) -> bool:
    """Check learners in, sign off and grant waivers: a trainer of the organisation."""
    return user.role == "trainer" and user.organisation_id == session.organisation_id


def can_create_sessions(user) -> bool:
    return user.is_authenticated and user.role in ("trainer", "admin")


def bookable_sessions(user) -> sa.Select:
    """Sessions ``user`` (a learner) may book: own organisation's and the centre's."""
    centre = sa.select(Organisation.id).where(Organisation.is_centre.is_(True))
    return sa.select(PracticalSession).where(
        sa.or_(
            PracticalSession.organisation_id == user.organisation_id,
            PracticalSession.organisation_id.in_(centre),
        )
    )


def managed_sessions(user) -> sa.Select:
    """Sessions ``user`` (staff) manages: their organisation's, or all for a centre admin."""
    query = sa.select(PracticalSession)
    if not _is_centre_admin(user):
        query = query.where(PracticalSession.organisation_id == user.organisation_id)
    return query


def session_organisations(user) -> sa.Select:
    """Organisations ``user`` may schedule sessions for."""
    query = sa.select(Organisation).order_by(Organisation.name)
    if not _is_centre_admin(user):
        query = query.where(Organisation.id == user.organisation_id)
    return query
