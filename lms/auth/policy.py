"""Who may see and change which accounts and organisations.

A centre admin sees and manages everything; an organisation's admin manages that
organisation; a trainer sees the people of their own organisation; a learner sees
themself. Views call these functions instead of repeating the checks.
"""

from __future__ import annotations

import sqlalchemy as sa

from lms.auth.models import Organisation, User


def is_centre_admin(actor: User) -> bool:
    return actor.is_authenticated and actor.is_centre_admin


def can_view_user(actor: User, user: User) -> bool:
    if actor.id == user.id or is_centre_admin(actor):
        return True
    return actor.role in ("trainer", "admin") and actor.organisation_id == user.organisation_id


def can_manage_user(actor: User, user: User) -> bool:
    if is_centre_admin(actor):
        return True
    return actor.role == "admin" and actor.organisation_id == user.organisation_id


def can_manage_organisation(actor: User, org: Organisation) -> bool:
    return is_centre_admin(actor) or (actor.role == "admin" and actor.organisation_id == org.id)


def visible_users(actor: User) -> sa.Select:
    """A query of the users ``actor`` may see, ordered by name."""
    query = sa.select(User).order_by(User.display_name, User.id)
    if not is_centre_admin(actor):
        query = query.where(User.organisation_id == actor.organisation_id)
    return query


def visible_organisations(actor: User) -> sa.Select:
    query = sa.select(Organisation).order_by(Organisation.name)
    if not is_centre_admin(actor):
        query = query.where(Organisation.id == actor.organisation_id)
    return query
