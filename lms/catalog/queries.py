"""Reads for the catalog pages: the module list, lesson outlines, versions."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from lms.catalog.models import Enrolment, Lesson, LessonImage, Module, ModuleVersion
from lms.catalog.services import records_learning
from lms.extensions import db


def fold(text: str) -> str:
    """Lower case without accents, for searching: ``Qualité`` -> ``qualite``."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def catalog_modules(user, *, sector: str = "", search: str = "") -> list[Module]:
    """The modules ``user`` may see, filtered by sector and by words of their texts.

    Learners do not see retired modules they never enrolled in. ``sector`` matches
    modules of that sector and those for both; every word of ``search`` must appear in
    a title or summary (any language, ignoring case and accents).
    """
    modules = db.session.scalars(
        sa.select(Module)
        .where(Module.current_version_id.is_not(None))
        .options(joinedload(Module.current_version))
    ).all()
    if records_learning(user):
        enrolled = set(
            db.session.scalars(sa.select(Enrolment.module_id).where(Enrolment.user_id == user.id))
        )
        modules = [m for m in modules if not m.is_retired or m.id in enrolled]
    if sector:
        modules = [m for m in modules if m.current_version.sector in (sector, "both")]
    words = fold(search).split()
    if words:
        modules = [m for m in modules if all(word in _search_text(m) for word in words)]
    return sorted(modules, key=lambda m: fold(m.current_version.title.get("en", m.id)))


def _search_text(module: Module) -> str:
    version = module.current_version
    return fold(" ".join([*version.title.values(), *version.summary.values()]))


@dataclass(frozen=True)
class LessonEntry:
    position: int
    slug: str
    title: dict[str, str]
    minutes: int


def lesson_outline(version_id: int) -> list[LessonEntry]:
    """The lessons of a version in reading order, without their HTML."""
    rows = db.session.execute(
        sa.select(Lesson.position, Lesson.slug, Lesson.title, Lesson.minutes)
        .where(Lesson.version_id == version_id)
        .order_by(Lesson.position)
    )
    return [LessonEntry(*row) for row in rows]


def find_lesson(version_id: int, slug: str) -> Lesson | None:
    return db.session.scalar(
        sa.select(Lesson).where(Lesson.version_id == version_id, Lesson.slug == slug)
    )


def find_image(module_id: str, content_hash: str, name: str) -> LessonImage | None:
    """The image ``name`` of the module's version with ``content_hash``, or None."""
    return db.session.scalar(
        sa.select(LessonImage)
        .join(ModuleVersion, LessonImage.version_id == ModuleVersion.id)
        .where(
            ModuleVersion.module_id == module_id,
            ModuleVersion.content_hash == content_hash,
            LessonImage.name == name,
        )
    )


def all_modules() -> list[Module]:
    """Every module with its current version, for administrators."""
    return list(
        db.session.scalars(
            sa.select(Module).options(joinedload(Module.current_version)).order_by(Module.id)
        )
    )


def versions_of(module_id: str) -> list[ModuleVersion]:
    """Every version of a module, newest first."""
    return list(
        db.session.scalars(
            sa.select(ModuleVersion)
            .where(ModuleVersion.module_id == module_id)
            .order_by(ModuleVersion.id.desc())
        )
    )


def version_counts() -> dict[str, int]:
    rows = db.session.execute(
        sa.select(ModuleVersion.module_id, sa.func.count()).group_by(ModuleVersion.module_id)
    )
    return dict(rows.all())
