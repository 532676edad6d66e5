"""Modules, their immutable versions and lessons, and the learner's reading records.

A ``ModuleVersion`` is never edited in place: a changed package becomes a new version,
identified by its content hash, and results keep pointing at the version they were
earned on. ``Module.current_version`` is the one served to learners.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.db_types import UTCDateTime, new_uuid, utcnow
from lms.extensions import db

MODULE_STATUSES = ("enabled", "retired")


class Module(db.Model):
    """A theory module, identified by its package's stable slug."""

    __tablename__ = "catalog_module"
    __table_args__ = (sa.CheckConstraint(f"status IN {MODULE_STATUSES!r}", name="status"),)

    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    #: ``enabled``: open to learners; ``retired``: no new enrolments, history kept.
    status: Mapped[str] = mapped_column(sa.String(16), default="enabled")
    current_version_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("catalog_module_version.id", use_alter=True)
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    current_version: Mapped[ModuleVersion | None] = relationship(
        foreign_keys=[current_version_id], post_update=True
    )

    @property
    def is_retired(self) -> bool:
        return self.status == "retired"

    def __repr__(self) -> str:
        return f"<Module {self.id} {self.status}>"


class ModuleVersion(db.Model):
    """One loaded state of a package. Read-only once written."""

    __tablename__ = "catalog_module_version"
    __table_args__ = (
        sa.UniqueConstraint("module_id", "content_hash", name="uq_catalog_module_version_hash"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[str] = mapped_column(sa.ForeignKey("catalog_module.id"), index=True)
    #: SHA-256 of the package files; the identity of this version.
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    #: The author's label from ``module.yaml`` (``version``), for people to read.
    label: Mapped[str] = mapped_column(sa.String(40))
    #: Language maps: ``{"en": ..., "fr": ...}``.
    title: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    summary: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    #: ``biopharma``, ``chemistry`` or ``both``.
    sector: Mapped[str] = mapped_column(sa.String(16))
    estimated_minutes: Mapped[int]
    #: A pass on this module expires after this many months.
    validity_months: Mapped[int]
    #: Ids of the theory modules to pass first.
    prerequisites: Mapped[list[str]] = mapped_column(sa.JSON)
    #: ``quiz`` of ``module.yaml`` with defaults filled in (see ``manifest.QUIZ_DEFAULTS``).
    quiz_settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    #: The question bank, normalised (see ``lms.catalog.questions``); includes answer keys.
    #: Deferred: read (one query) only where the quiz needs it, not whenever a version
    #: is loaded for the catalogue, a lesson or a dashboard (130 banks on the catalogue).
    questions: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, deferred=True)
    #: ``[{"id", "title", "url"}]`` cited by lessons and questions.
    sources: Mapped[list[dict[str, str]]] = mapped_column(sa.JSON)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    module: Mapped[Module] = relationship(foreign_keys=[module_id])
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="version", order_by="Lesson.position", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<ModuleVersion {self.module_id} {self.content_hash[:12]}>"


class Lesson(db.Model):
    """A lesson of one version, rendered to safe HTML when the version was loaded."""

    __tablename__ = "catalog_lesson"
    __table_args__ = (
        sa.UniqueConstraint("version_id", "slug", name="uq_catalog_lesson_slug"),
        sa.UniqueConstraint("version_id", "position", name="uq_catalog_lesson_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("catalog_module_version.id"))
    #: 0-based reading order.
    position: Mapped[int]
    #: Stable within the module: the file name without its order prefix and ``.md``.
    slug: Mapped[str] = mapped_column(sa.String(120))
    title: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    minutes: Mapped[int]
    #: Sanitised HTML (see ``lms.catalog.render``); served as is.
    html: Mapped[str] = mapped_column(sa.Text)
    #: ``[{"level", "id", "text"}]``: the lesson's table of contents.
    toc: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)

    version: Mapped[ModuleVersion] = relationship(back_populates="lessons")


class LessonImage(db.Model):
    """An image file of one version, stored so that no request reads the package folder."""

    __tablename__ = "catalog_lesson_image"
    __table_args__ = (
        sa.UniqueConstraint("version_id", "name", name="uq_catalog_lesson_image_name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("catalog_module_version.id"))
    name: Mapped[str] = mapped_column(sa.String(120))
    media_type: Mapped[str] = mapped_column(sa.String(40))
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)


class Enrolment(db.Model):
    """A learner's taking of a module: created when they first open it.

    ``registration`` is the xAPI ``context.registration`` of every statement about this
    learner and module (lessons here, attempts in the quiz engine).
    """

    __tablename__ = "catalog_enrolment"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "module_id", name="uq_catalog_enrolment_user_module"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    module_id: Mapped[str] = mapped_column(sa.ForeignKey("catalog_module.id"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When ``launched``/``initialized`` were last written (a new learning session).
    last_launched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LessonRead(db.Model):
    """A learner marked a lesson of a version as read (an ``experienced`` statement)."""

    __tablename__ = "catalog_lesson_read"
    __table_args__ = (
        sa.UniqueConstraint(
            "user_id", "version_id", "lesson_slug", name="uq_catalog_lesson_read_lesson"
        ),
        #: Covering: the dashboards count a learner's reads per module from it alone.
        sa.Index("ix_catalog_lesson_read_user_module", "user_id", "module_id", "lesson_slug"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    module_id: Mapped[str] = mapped_column(sa.ForeignKey("catalog_module.id"))
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("catalog_module_version.id"))
    lesson_slug: Mapped[str] = mapped_column(sa.String(120))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SyncReport(db.Model):
    """One run of ``lms modules sync``: what each package gave."""

    __tablename__ = "catalog_sync_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: ``[{"module", "path", "outcome", "content_hash", "problems": [str]}]``; outcome is
    #: ``loaded``, ``unchanged``, ``restored`` or ``refused``.
    entries: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)

    @property
    def refused(self) -> int:
        return sum(1 for entry in self.entries if entry["outcome"] == "refused")
