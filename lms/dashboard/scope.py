"""Whose learners a member of staff may see on the dashboards.

A trainer or an organisation's admin sees their own organisation; a centre admin sees
every organisation, or the one they pick. Every dashboard read goes through here.
"""

from __future__ import annotations

import sqlalchemy as sa

from lms.auth import policy
from lms.auth.models import Organisation, User
from lms.extensions import db


def is_staff(actor: User) -> bool:
    return actor.is_authenticated and actor.role in ("trainer", "admin")


def organisation_ids(actor: User, wanted: int | None = None) -> list[int] | None:
    """The organisations ``actor`` looks at: their own, or for a centre admin ``wanted``
    (None: all, returned as None). A crafted ``wanted`` from anyone else is ignored."""
    if policy.is_centre_admin(actor):
        return None if wanted is None else [wanted]
    return [actor.organisation_id]


def restrict(query: sa.Select, column, org_ids: list[int] | None) -> sa.Select:
    """``query`` limited to rows whose ``column`` is one of ``org_ids`` (None: all)."""
    return query if org_ids is None else query.where(column.in_(org_ids))


def organisations(actor: User) -> list[Organisation]:
    """The organisations ``actor`` may pick from (one unless a centre admin)."""
    return list(db.session.scalars(policy.visible_organisations(actor)))


def find_learner(actor: User, public_id: str) -> User | None:
    """The learner with ``public_id`` if ``actor`` may see their records; else None."""
    if not is_staff(actor) or not public_id or len(public_id) > 36:
        return None
    user = db.session.scalar(sa.select(User).where(User.public_id == public_id))
    if user is None or user.role != "learner" or not policy.can_view_user(actor, user):
        return None
    return user
