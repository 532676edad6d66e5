"""Qualifications: the GMP record that a learner passed a module, valid for a time.

A qualification is never edited. A pass issues one; passing again issues another (a
renewal); a trainer's correction is a new record that points at the one it corrects,
with the reason and its author. The current qualification of a learner and module is
the newest record that no correction points at.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db_types import UTCDateTime
from lms.extensions import db

QUALIFICATION_KINDS = ("pass", "correction")


def new_verification_code() -> str:
    """An unguessable code for the public verification address (128 bits)."""
    return secrets.token_urlsafe(16)


class Qualification(db.Model):
    __tablename__ = "progress_qualification"
    __table_args__ = (
        sa.CheckConstraint(f"kind IN {QUALIFICATION_KINDS!r}", name="kind"),
        sa.Index("ix_progress_qualification_user_module", "user_id", "module_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The code in the certificate's verification URL.
    code: Mapped[str] = mapped_column(sa.String(32), unique=True, default=new_verification_code)
    #: ``pass`` (issued by a passed attempt) or ``correction`` (issued by a trainer).
    kind: Mapped[str] = mapped_column(sa.String(16))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    module_id: Mapped[str] = mapped_column(sa.ForeignKey("catalog_module.id"))
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("catalog_module_version.id"))
    #: The passed attempt (a correction keeps the attempt of the record it corrects).
    attempt_id: Mapped[int | None] = mapped_column(sa.ForeignKey("quiz_attempt.id"))
    score_scaled: Mapped[float | None]
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The qualification counts until this moment (excluded).
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The record this one corrects; unique, so a record is corrected at most once.
    corrects_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("progress_qualification.id"), unique=True
    )
    reason: Mapped[str | None] = mapped_column(sa.Text)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    user = relationship("User", foreign_keys=[user_id])
    author = relationship("User", foreign_keys=[author_id])
    module = relationship("Module")
    version = relationship("ModuleVersion")
    corrects: Mapped[Qualification | None] = relationship(remote_side=[id])

    def is_valid_at(self, moment: datetime) -> bool:
        return self.issued_at <= moment < self.valid_until

    def __repr__(self) -> str:
        return f"<Qualification {self.id} {self.module_id} until {self.valid_until:%Y-%m-%d}>"
