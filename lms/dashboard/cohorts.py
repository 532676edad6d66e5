"""Creating and keeping cohorts: rename, archive, add and remove learners (audited)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.auth import policy
from lms.auth.models import Organisation, User
from lms.dashboard import scope
from lms.dashboard.models import Cohort, CohortMember
from lms.db_types import utcnow
from lms.extensions import db


class CohortError(ValueError):
    """A change the rules refuse; the message is for the person."""


def can_manage(actor: User, organisation_id: int) -> bool:
    """A trainer or admin of the organisation, or a centre admin."""
    if policy.is_centre_admin(actor):
        return True
    return scope.is_staff(actor) and actor.organisation_id == organisation_id


def visible_cohorts(actor: User, org_ids: list[int] | None, *, archived: bool | None = None):
    """The cohorts of ``org_ids`` (see ``scope.organisation_ids``), by name."""
    query = scope.restrict(
        sa.select(Cohort).order_by(Cohort.name, Cohort.id), Cohort.organisation_id, org_ids
    )
    if archived is not None:
        query = query.where(
            Cohort.archived_at.is_not(None) if archived else Cohort.archived_at.is_(None)
        )
    return list(db.session.scalars(query))


def find_cohort(actor: User, public_id: str) -> Cohort | None:
    """The cohort with ``public_id`` if ``actor`` may see it; else None."""
    if not public_id or len(public_id) > 36 or not scope.is_staff(actor):
        return None
    cohort = db.session.scalar(sa.select(Cohort).where(Cohort.public_id == public_id))
    if cohort is None or not can_manage(actor, cohort.organisation_id):
        return None
    return cohort


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not 2 <= len(name) <= 120:
        raise CohortError(_l("Give the cohort a name of 2 to 120 characters."))
    return name


def _check_unique(organisation_id: int, name: str, cohort_id: int | None = None) -> None:
    query = sa.select(Cohort.id).where(
        Cohort.organisation_id == organisation_id, sa.func.lower(Cohort.name) == name.lower()
    )
    if cohort_id is not None:
        query = query.where(Cohort.id != cohort_id)
    if db.session.scalar(query) is not None:
        raise CohortError(_l("The organisation already has a cohort of that name."))


def _audit(action: str, cohort: Cohort, by: User, **details) -> None:
    audit.record(
        f"dashboard.cohort.{action}",
        actor=by,
        organisation_id=cohort.organisation_id,
        target_type="cohort",
        target_id=cohort.public_id,
        details={"name": cohort.name, **details},
    )


def create_cohort(organisation: Organisation, name: str, *, by: User) -> Cohort:
    """A new cohort of ``organisation`` (flushed, audited).

    Raises ``PermissionError`` when ``by`` may not manage the organisation's cohorts and
    ``CohortError`` for a bad or duplicate name.
    """
    if not can_manage(by, organisation.id):
        raise PermissionError("not staff of the organisation")
    name = _clean_name(name)
    _check_unique(organisation.id, name)
    cohort = Cohort(organisation_id=organisation.id, name=name, created_by_id=by.id)
    db.session.add(cohort)
    db.session.flush()
    _audit("created", cohort, by)
    return cohort


def rename_cohort(cohort: Cohort, name: str, *, by: User) -> None:
    """Give ``cohort`` a new name (audited); raises like ``create_cohort``."""
    if not can_manage(by, cohort.organisation_id):
        raise PermissionError("not staff of the organisation")
    name = _clean_name(name)
    _check_unique(cohort.organisation_id, name, cohort.id)
    previous, cohort.name = cohort.name, name
    db.session.flush()
    _audit("renamed", cohort, by, previous=previous)


def set_archived(cohort: Cohort, archived: bool, *, by: User, now: datetime | None = None) -> None:
    """Archive ``cohort`` (kept with its members, no longer offered) or bring it back."""
    if not can_manage(by, cohort.organisation_id):
        raise PermissionError("not staff of the organisation")
    if archived == cohort.is_archived:
        return
    cohort.archived_at = (now or utcnow()) if archived else None
    db.session.flush()
    _audit("archived" if archived else "restored", cohort, by)


def members(cohort: Cohort) -> list[User]:
    """The cohort's learners, by name."""
    return list(
        db.session.scalars(
            sa.select(User)
            .join(CohortMember, CohortMember.user_id == User.id)
            .where(CohortMember.cohort_id == cohort.id)
            .order_by(User.display_name, User.id)
        )
    )


def candidates(cohort: Cohort) -> list[User]:
    """The organisation's active learners not yet in the cohort, by name."""
    inside = sa.select(CohortMember.user_id).where(CohortMember.cohort_id == cohort.id)
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.organisation_id == cohort.organisation_id, User.role == "learner")
            .where(User.active.is_(True), User.id.not_in(inside))
            .order_by(User.display_name, User.id)
        )
    )


def _learner_of(cohort: Cohort, public_id: str) -> User:
    learner = db.session.scalar(sa.select(User).where(User.public_id == (public_id or "")[:36]))
    if learner is None or learner.role != "learner":
        raise CohortError(_l("Choose a learner of the organisation."))
    if learner.organisation_id != cohort.organisation_id:
        raise CohortError(_l("Choose a learner of the organisation."))
    return learner


def add_member(cohort: Cohort, learner_public_id: str, *, by: User) -> User:
    """Add a learner of the cohort's organisation (audited); returns the learner.

    Raises ``PermissionError`` for staff of another organisation and ``CohortError``
    for a learner of another organisation or already in the cohort.
    """
    if not can_manage(by, cohort.organisation_id):
        raise PermissionError("not staff of the organisation")
    learner = _learner_of(cohort, learner_public_id)
    exists = sa.select(CohortMember.id).where(
        CohortMember.cohort_id == cohort.id, CohortMember.user_id == learner.id
    )
    if db.session.scalar(exists) is not None:
        raise CohortError(_l("%(name)s is already in the cohort.", name=learner.display_name))
    db.session.add(CohortMember(cohort_id=cohort.id, user_id=learner.id, added_by_id=by.id))
    db.session.flush()
    _audit("member_added", cohort, by, learner=learner.public_id)
    return learner


def remove_member(cohort: Cohort, learner_public_id: str, *, by: User) -> User:
    """Take a learner out of the cohort (audited); raises like ``add_member``."""
    if not can_manage(by, cohort.organisation_id):
        raise PermissionError("not staff of the organisation")
    learner = _learner_of(cohort, learner_public_id)
    member = db.session.scalar(
        sa.select(CohortMember).where(
            CohortMember.cohort_id == cohort.id, CohortMember.user_id == learner.id
        )
    )
    if member is None:
        raise CohortError(_l("%(name)s is not in the cohort.", name=learner.display_name))
    db.session.delete(member)
    db.session.flush()
    _audit("member_removed", cohort, by, learner=learner.public_id)
    return learner
