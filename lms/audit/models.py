"""The audit trail: append-only records, each holding the hash of the one before."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db_types import UTCDateTime, utcnow
from lms.extensions import db

#: ``prev_hash`` of the first record.
GENESIS = "0" * 64


class AuditRecord(db.Model):
    __tablename__ = "audit_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: Who acted; None for the system or an anonymous visitor.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    #: The actor as they were known at the time: a user's public id, "system", or what an
    #: anonymous visitor claimed (the e-mail of a failed log-in to no account).
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    #: The organisation the record belongs to, for scoping who may read it.
    organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisation.id"), index=True
    )
    #: Dotted event name, e.g. ``auth.login.failed``, ``user.updated``.
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(32), default="")
    target_id: Mapped[str] = mapped_column(sa.String(64), default="")
    #: Canonical JSON (sorted keys) of what changed or why.
    details: Mapped[str] = mapped_column(sa.Text, default="{}")
    #: ``hash`` of the previous record; unique, so the chain cannot fork.
    prev_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)

    #: The acting user as they are now (a pseudonymised learner shows as such).
    actor = relationship("User", lazy="raise", viewonly=True)
