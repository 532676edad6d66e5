"""Practical types, dated sessions, bookings, attendance, signed sign-offs and waivers.

GMP records (sign-offs, waivers, attendance) are never edited: a sign-off is corrected
by a new signed record that names the one it corrects. A practical type is updated in
place by ``lms modules sync`` and every loaded content is kept in its revisions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.auth.models import Organisation, User
from lms.db_types import UTCDateTime, new_uuid, utcnow
from lms.extensions import db

SESSION_STATUSES = ("scheduled", "cancelled")
BOOKING_STATES = ("booked", "waiting", "cancelled")
OUTCOMES = ("pass", "fail")
#: What an electronic signature means (21 CFR 11.50): stored with every signed record.
SIGNATURE_MEANINGS = ("performed-and-approved-by", "approved-by")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class PracticalType(db.Model):
    """A kind of practical session, as its file in ``modules/practicals/`` defines it."""

    __tablename__ = "practical_type"

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    title: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    summary: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    room_kind: Mapped[str] = mapped_column(sa.String(32))
    duration_minutes: Mapped[int]
    default_capacity: Mapped[int]
    #: The prerequisite rule in its file form (see ``rules.rule_from_data``).
    prerequisites: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: SHA-256 of the file currently loaded.
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PracticalTypeRevision(db.Model):
    """Each content a practical type was loaded with, in order (append-only history)."""

    __tablename__ = "practical_type_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    type_id: Mapped[str] = mapped_column(sa.ForeignKey("practical_type.id"), index=True)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PracticalSession(db.Model):
    """One dated occurrence of a practical type, run by an organisation."""

    __tablename__ = "practical_session"
    __table_args__ = (
        sa.CheckConstraint(_in("status", SESSION_STATUSES), name="status"),
        sa.CheckConstraint("capacity >= 1", name="capacity"),
        sa.CheckConstraint("ends_at > starts_at", name="dates"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Identifier in URLs and in the session's xAPI activity id.
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    type_id: Mapped[str] = mapped_column(sa.ForeignKey("practical_type.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisation.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    room: Mapped[str] = mapped_column(sa.String(120))
    trainer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    capacity: Mapped[int]
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(16), default="scheduled")
    #: Hours before the start when booking closes; None: ``PRACTICALS_BOOKING_CLOSES_HOURS``.
    booking_closes_hours: Mapped[int | None]
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    practical_type: Mapped[PracticalType] = relationship()
    organisation: Mapped[Organisation] = relationship()
    trainer: Mapped[User] = relationship(foreign_keys=[trainer_id])

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"


class Booking(db.Model):
    """A learner's seat (``booked``) or place in the queue (``waiting``) for a session.

    A cancelled booking stays as a record; booking again makes a new row. At most one
    booking per learner and session is not cancelled.
    """

    __tablename__ = "practical_booking"
    __table_args__ = (
        sa.CheckConstraint(_in("state", BOOKING_STATES), name="state"),
        sa.Index(
            "uq_practical_booking_active",
            "session_id",
            "learner_id",
            unique=True,
            sqlite_where=sa.text("state != 'cancelled'"),
            postgresql_where=sa.text("state != 'cancelled'"),
        ),
        sa.Index("ix_practical_booking_session_state", "session_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The xAPI ``context.registration`` of every statement about this booking.
    registration: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("practical_session.id"))
    learner_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(16))
    #: Order of arrival within the session: the waiting list is served lowest first.
    position: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When a waiting learner was given a seat (the learner sees a notice).
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    session: Mapped[PracticalSession] = relationship()
    learner: Mapped[User] = relationship(foreign_keys=[learner_id])


class Attendance(db.Model):
    """A learner checked in at a session by a trainer."""

    __tablename__ = "practical_attendance"
    __table_args__ = (
        sa.UniqueConstraint("session_id", "learner_id", name="uq_practical_attendance_learner"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("practical_session.id"))
    learner_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("practical_booking.id"))
    checked_in_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SignOff(db.Model):
    """A trainer's signed pass/fail of one learner at one session. Never edited.

    A correction is a new sign-off whose ``corrects_id`` names the one it replaces; the
    effective sign-off is the one no other corrects.
    """

    __tablename__ = "practical_sign_off"
    __table_args__ = (
        sa.CheckConstraint(_in("outcome", OUTCOMES), name="outcome"),
        sa.CheckConstraint(_in("meaning", SIGNATURE_MEANINGS), name="meaning"),
        sa.Index(
            "uq_practical_sign_off_first",
            "session_id",
            "learner_id",
            unique=True,
            sqlite_where=sa.text("corrects_id IS NULL"),
            postgresql_where=sa.text("corrects_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("practical_session.id"), index=True)
    learner_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    type_id: Mapped[str] = mapped_column(sa.ForeignKey("practical_type.id"))
    #: The practical type's content hash when signed (what the learner was assessed on).
    type_content_hash: Mapped[str] = mapped_column(sa.String(64))
    outcome: Mapped[str] = mapped_column(sa.String(8))
    comments: Mapped[str] = mapped_column(sa.Text, default="")
    #: The sign-off this one corrects; unique, so a record is corrected at most once.
    corrects_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("practical_sign_off.id"), unique=True
    )
    signer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    #: The signer's printed name at the time of signing.
    signer_name: Mapped[str] = mapped_column(sa.String(120))
    meaning: Mapped[str] = mapped_column(sa.String(32))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signer: Mapped[User] = relationship(foreign_keys=[signer_id])


class Waiver(db.Model):
    """A trainer's signed waiver of one condition of one practical type for one learner."""

    __tablename__ = "practical_waiver"
    __table_args__ = (
        sa.UniqueConstraint(
            "learner_id", "type_id", "condition_key", name="uq_practical_waiver_condition"
        ),
        sa.CheckConstraint(_in("meaning", SIGNATURE_MEANINGS), name="meaning"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    learner_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    type_id: Mapped[str] = mapped_column(sa.ForeignKey("practical_type.id"))
    #: ``rules.Condition.key`` of the waived condition, e.g. ``qualification_valid:x``.
    condition_key: Mapped[str] = mapped_column(sa.String(160))
    reason: Mapped[str] = mapped_column(sa.Text)
    #: The session the waiver was granted from, if any (context only).
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("practical_session.id"))
    signer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    signer_name: Mapped[str] = mapped_column(sa.String(120))
    meaning: Mapped[str] = mapped_column(sa.String(32))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signer: Mapped[User] = relationship(foreign_keys=[signer_id])
