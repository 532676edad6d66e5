"""How Flask-Login turns a session's user id back into a user."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from lms.auth.models import User
from lms.extensions import db


def load_user(session_id: str) -> User | None:
    """The active user whose public id and session version match ``session_id``.

    The session version changes with the password, so sessions from before a
    password change (or a deactivation) no longer load a user.
    """
    public_id, _, version = session_id.partition(".")
    if not version.isdigit():
        return None
    # With the organisation: permissions (centre admin?) and statements (actor) read it.
    user = db.session.scalar(
        sa.select(User).options(joinedload(User.organisation)).where(User.public_id == public_id)
    )
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user
