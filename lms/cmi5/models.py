"""cmi5 platforms (host LMSs), their learners, registrations, AU sessions and statements.

A ``Cmi5Session`` is one launch of one module by a host LMS. Its auth token is a secret of
the LMS: kept here, server side, never rendered, logged or sent to the browser.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import Organisation, User
from lms.db_types import UTCDateTime, new_uuid, utcnow
from lms.extensions import db

LAUNCH_MODES = ("Normal", "Browse", "Review")
MOVE_ON = ("NotApplicable", "Passed", "Completed", "CompletedAndPassed", "CompletedOrPassed")
SESSION_STATES = ("open", "terminated", "abandoned")
STATEMENT_STATES = ("pending", "delivered", "parked")
#: The statements still to send (the predicate of the queue's partial index).
QUEUED = "state = 'pending'"


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Cmi5Platform(db.Model):
    """A host LMS allowed to launch our modules, and the organisation its learners join.

    A launch is accepted only when its ``fetch`` and ``endpoint`` URLs are on one of the
    platform's ``origins``: nobody can make this service call another address, and a
    learner is known by the platform and the account the LMS gave them.
    """

    __tablename__ = "cmi5_platform"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    #: ``["https://lms.example.org", "https://lrs.example.org:8443"]``: scheme, host, port.
    origins: Mapped[list[str]] = mapped_column(sa.JSON)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()

    def __repr__(self) -> str:
        return f"<Cmi5Platform {self.name}>"


class Cmi5Learner(db.Model):
    """The account of this service that stands for one learner of a platform."""

    __tablename__ = "cmi5_learner"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "home_page", "name", name="uq_cmi5_learner_account"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("cmi5_platform.id"))
    #: The launch actor's ``account.homePage`` and ``account.name``.
    home_page: Mapped[str] = mapped_column(sa.String(512))
    name: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class Cmi5Registration(db.Model):
    """A learner's registration (the LMS's enrolment) for one AU: the rules that span
    sessions (one ``completed``, one ``passed``, no ``failed`` after it)."""

    __tablename__ = "cmi5_registration"
    __table_args__ = (
        sa.UniqueConstraint(
            "platform_id", "registration", "activity_id", name="uq_cmi5_registration_au"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("cmi5_platform.id"))
    #: The LMS's registration UUID (``context.registration``).
    registration: Mapped[str] = mapped_column(sa.String(36))
    #: The AU's activity id the LMS generated (the object of every statement).
    activity_id: Mapped[str] = mapped_column(sa.String(1024))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    module_id: Mapped[str] = mapped_column(sa.ForeignKey("catalog_module.id"))
    #: When a quiz attempt was submitted in a Normal-mode session of this registration.
    quiz_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When ``completed`` / ``passed`` were written (each at most once per registration).
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    platform: Mapped[Cmi5Platform] = relationship()


class Cmi5Session(db.Model):
    """One AU session: a launch of a module by the LMS, from ``initialized`` on."""

    __tablename__ = "cmi5_session"
    __table_args__ = (
        sa.CheckConstraint(_in("launch_mode", LAUNCH_MODES), name="launch_mode"),
        sa.CheckConstraint(_in("move_on", MOVE_ON), name="move_on"),
        sa.CheckConstraint(_in("state", SESSION_STATES), name="state"),
        sa.CheckConstraint("judged IS NULL OR judged IN ('passed', 'failed')", name="judged"),
        sa.Index("ix_cmi5_session_user_module", "user_id", "module_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The session's id in our URLs (opaque).
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    registration_id: Mapped[int] = mapped_column(sa.ForeignKey("cmi5_registration.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    module_id: Mapped[str] = mapped_column(sa.ForeignKey("catalog_module.id"))
    #: The LMS's session id (the ``sessionid`` extension of the context template).
    session_id: Mapped[str] = mapped_column(sa.String(255))
    #: SHA-256 of the launch's fetch URL: a reload of the launch finds its session.
    fetch_digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The launch ``actor`` parameter, parsed: the actor of every statement, as given.
    actor: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: The LRS base URL of the LMS (launch ``endpoint``).
    endpoint: Mapped[str] = mapped_column(sa.String(1024))
    #: The token from the fetch URL (Basic credentials). Never rendered, logged or sent.
    auth_token: Mapped[str] = mapped_column(sa.String(2048))
    #: ``contextTemplate`` of ``LMS.LaunchData``: merged into every statement's context.
    context_template: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    launch_mode: Mapped[str] = mapped_column(sa.String(8))
    move_on: Mapped[str] = mapped_column(sa.String(20))
    mastery_score: Mapped[float | None]
    return_url: Mapped[str | None] = mapped_column(sa.String(2048))
    #: ``open`` until Exit (``terminated``) or a newer launch of the module (``abandoned``).
    state: Mapped[str] = mapped_column(sa.String(12), default="open")
    #: ``passed`` or ``failed`` once one was written in this session (at most one).
    judged: Mapped[str | None] = mapped_column(sa.String(8))
    initialized_at: Mapped[datetime] = mapped_column(UTCDateTime)
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: A delivery in progress holds the session until then (one sender at a time).
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    registration: Mapped[Cmi5Registration] = relationship()
    user: Mapped[User] = relationship()
    statements: Mapped[list[Cmi5Statement]] = relationship(
        back_populates="session", order_by="Cmi5Statement.id"
    )

    @property
    def is_open(self) -> bool:
        return self.state == "open"

    @property
    def records_results(self) -> bool:
        """Only a Normal launch reports completion and results (cmi5, section 10)."""
        return self.launch_mode == "Normal"

    def __repr__(self) -> str:
        return f"<Cmi5Session {self.public_id} {self.state}>"


class Cmi5Statement(db.Model):
    """A statement for the LMS's LRS, kept until delivered; sent in ``id`` order."""

    __tablename__ = "cmi5_statement"
    __table_args__ = (
        sa.CheckConstraint(_in("state", STATEMENT_STATES), name="state"),
        sa.Index(
            "ix_cmi5_statement_queue",
            "session_id",
            "id",
            sqlite_where=sa.text(QUEUED),
            postgresql_where=sa.text(QUEUED),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("cmi5_session.id"), index=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True)
    #: ``initialized``, ``completed``, ``passed``, ``failed`` or ``terminated``.
    verb: Mapped[str] = mapped_column(sa.String(12))
    #: The statement as sent (compact JSON).
    body: Mapped[str] = mapped_column(sa.Text)
    #: The statement's timestamp: never before an earlier statement of the session.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(sa.String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[Cmi5Session] = relationship(back_populates="statements")

    def __repr__(self) -> str:
        return f"<Cmi5Statement {self.uuid} {self.verb} {self.state}>"
