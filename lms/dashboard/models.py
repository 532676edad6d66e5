"""Cohorts: named groups of an organisation's learners (an intake, a class)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import Organisation, User
from lms.db_types import UTCDateTime, new_uuid, utcnow
from lms.extensions import db


class Cohort(db.Model):
    """A group of learners of one organisation, e.g. "Job-seekers intake March 2027"."""

    __tablename__ = "dashboard_cohort"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "name", name="uq_dashboard_cohort_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The cohort's id in URLs and filters: opaque, so cohorts cannot be enumerated.
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When the cohort was archived (kept, no longer offered as a filter); None: active.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def __repr__(self) -> str:
        return f"<Cohort {self.public_id} {self.name!r}>"


class CohortMember(db.Model):
    """A learner's membership of a cohort."""

    __tablename__ = "dashboard_cohort_member"
    __table_args__ = (
        sa.UniqueConstraint("cohort_id", "user_id", name="uq_dashboard_cohort_member"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(
        sa.ForeignKey("dashboard_cohort.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    added_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
