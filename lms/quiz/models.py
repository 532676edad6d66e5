"""Attempts at a module's quiz and the answers saved during them.

An attempt is ``open`` until it is submitted (by the learner, or by the service once
its deadline has passed); it is then ``submitted`` and graded, and never changes again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db_types import UTCDateTime, new_uuid
from lms.extensions import db

ATTEMPT_STATES = ("open", "submitted")


class Attempt(db.Model):
    __tablename__ = "quiz_attempt"
    __table_args__ = (
        sa.CheckConstraint(f"state IN {ATTEMPT_STATES!r}", name="state"),
        #: Two concurrent starts cannot both create attempt number n.
        sa.UniqueConstraint("user_id", "module_id", "number", name="uq_quiz_attempt_number"),
        #: Covering: the dashboards read a learner's results per module from it alone.
        sa.Index(
            "ix_quiz_attempt_user_module",
            "user_id",
            "module_id",
            "state",
            "submitted_at",
            "passed",
            "score_scaled",
        ),
        #: At most one open attempt per learner and module (second tabs, double clicks).
        sa.Index(
            "uq_quiz_attempt_open",
            "user_id",
            "module_id",
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The attempt's id in URLs: opaque, so attempts cannot be enumerated.
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    module_id: Mapped[str] = mapped_column(sa.ForeignKey("catalog_module.id"))
    #: The version whose bank the attempt was drawn from (and is graded against).
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("catalog_module_version.id"))
    #: The enrolment's registration: ``context.registration`` of the attempt's statements.
    registration: Mapped[str] = mapped_column(sa.String(36))
    #: 1, 2, ... per learner and module.
    number: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Answers saved after this do not count; None without a time limit.
    deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(sa.String(16), default="open")
    #: ``[{"id": question id, "options"/"sources"/"targets"/"items": [ids in shown order]}]``
    draw: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    score_raw: Mapped[float | None]
    score_max: Mapped[float | None]
    score_scaled: Mapped[float | None]
    passed: Mapped[bool | None]

    user = relationship("User")
    module = relationship("Module")
    version = relationship("ModuleVersion")
    answers: Mapped[list[AttemptAnswer]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", order_by="AttemptAnswer.id"
    )

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    def __repr__(self) -> str:
        return f"<Attempt {self.public_id} {self.state}>"


class AttemptAnswer(db.Model):
    """The learner's latest response to one question of an attempt."""

    __tablename__ = "quiz_attempt_answer"
    __table_args__ = (
        sa.UniqueConstraint("attempt_id", "question_id", name="uq_quiz_attempt_answer_question"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_attempt.id"))
    question_id: Mapped[str] = mapped_column(sa.String(64))
    #: As ``responses.parse`` returns it (JSON); None when left empty.
    response: Mapped[Any] = mapped_column(sa.JSON(none_as_null=True), nullable=True)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Filled when the attempt is graded.
    score: Mapped[float | None]
    correct: Mapped[bool | None]

    attempt: Mapped[Attempt] = relationship(back_populates="answers")
