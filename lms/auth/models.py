"""Organisations and users."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db_types import UTCDateTime, new_uuid, utcnow
from lms.extensions import db

ROLES = ("learner", "trainer", "admin")
LEARNER_CATEGORIES = ("worker", "job_seeker", "student", "teacher")
SECTORS = ("biopharma", "chemistry")
ACTOR_MODES = ("account", "mbox")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Organisation(db.Model):
    __tablename__ = "organisation"
    __table_args__ = (sa.CheckConstraint(_in("actor_mode", ACTOR_MODES), name="actor_mode"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: How xAPI statements identify this organisation's learners: ``account`` or ``mbox``.
    actor_mode: Mapped[str] = mapped_column(sa.String(8), default="account")
    #: Whether people may create their own learner account in this organisation.
    self_registration: Mapped[bool] = mapped_column(default=False)
    #: The training centre itself: its admins administer every organisation.
    is_centre: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        sa.CheckConstraint(_in("role", ROLES), name="role"),
        sa.CheckConstraint(
            "learner_category IS NULL OR " + _in("learner_category", LEARNER_CATEGORIES),
            name="learner_category",
        ),
        sa.CheckConstraint("sector IS NULL OR " + _in("sector", SECTORS), name="sector"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Opaque identifier shown to the outside world (URLs, xAPI actor account name).
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    #: Stored normalised (trimmed, lower case), so uniqueness ignores case.
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(16), default="learner")
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    learner_category: Mapped[str | None] = mapped_column(sa.String(16))
    sector: Mapped[str | None] = mapped_column(sa.String(16))
    #: Preferred interface language; None follows the browser.
    language: Mapped[str | None] = mapped_column(sa.String(5))
    active: Mapped[bool] = mapped_column(default=True)
    #: Bumped on password change: log-in sessions carry it and older ones stop working.
    session_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When an admin erased the name and e-mail of this former learner (GDPR); the
    #: training records stay under ``public_id``. None for everyone else.
    pseudonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="users")

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.public_id}.{self.session_version}"

    @property
    def is_centre_admin(self) -> bool:
        return self.role == "admin" and self.organisation.is_centre

    @property
    def is_pseudonymised(self) -> bool:
        return self.pseudonymised_at is not None

    def __repr__(self) -> str:
        return f"<User {self.public_id} {self.role}>"


class PasswordResetLink(db.Model):
    """A single-use link to choose a new password, e-mailed on request or made by an admin.

    Only the SHA-256 of the link's secret is stored. A link works until ``expires_at``,
    once; any password change of its user ends every link still open.
    """

    __tablename__ = "password_reset_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: SHA-256 (hex) of the secret in the link.
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The admin who made it; None when the person asked for it by e-mail.
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Ended unused: the password changed another way, or the account was pseudonymised.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def is_usable(self, now: datetime) -> bool:
        return self.used_at is None and self.revoked_at is None and now < self.expires_at

    def __repr__(self) -> str:
        return f"<PasswordResetLink {self.id} of user {self.user_id}>"
