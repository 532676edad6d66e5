"""The catalog's rules: who may open a module, prerequisites, launches and lesson reads.

Services flush and write the xAPI statements and audit records they owe; the request
commits once. Only learners leave records: trainers and admins open modules as a
preview, so their browsing does not reach the learning record stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from lms import audit, xapi
from lms.catalog.models import (
    MODULE_STATUSES,
    Enrolment,
    Lesson,
    LessonRead,
    Module,
    ModuleVersion,
)
from lms.cmi5 import tracking as cmi5
from lms.db_types import utcnow
from lms.extensions import db

#: Opening a module again after this long counts as a new session (launched/initialized).
RELAUNCH_AFTER = timedelta(hours=4)


class CatalogError(ValueError):
    """A request the catalog's rules refuse; the message is for the person."""


def passed_module_ids(user) -> set[str]:
    """Ids of the modules ``user`` has passed and whose pass has not expired.

    The seam to the progress feature, which owns qualifications (imported here, as
    progress builds on the catalog).
    """
    from lms.progress.services import passed_module_ids as qualified_module_ids

    return qualified_module_ids(user)


def records_learning(user) -> bool:
    """True when ``user`` takes modules for real (a learner), False for a staff preview."""
    return user.is_authenticated and user.role == "learner"


def find_module(module_id: str) -> Module | None:
    """The module with ``module_id`` if it has a version to serve, else None.

    Loads the current version with it (every caller reads it): one query, not two.
    """
    module = db.session.scalar(
        sa.select(Module).where(Module.id == module_id).options(joinedload(Module.current_version))
    )
    return module if module is not None and module.current_version_id is not None else None


def enrolment_for(user, module_id: str) -> Enrolment | None:
    """The learner's enrolment in the module (its UUID is the xAPI registration), or None."""
    return db.session.scalar(
        sa.select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.module_id == module_id)
    )


def is_open_to(user, module: Module, enrolment: Enrolment | None) -> bool:
    """A retired module stays open to staff and to learners enrolled before it retired."""
    return not module.is_retired or enrolment is not None or not records_learning(user)


@dataclass(frozen=True)
class Prerequisite:
    module_id: str
    #: The prerequisite's title (language map), or None when no such module is loaded.
    title: dict[str, str] | None
    met: bool


def prerequisites_of(user, module: Module, passed: set[str] | None = None) -> list[Prerequisite]:
    """Each theory prerequisite of the module's current version, and whether ``user`` meets it.

    ``passed``: the ids ``passed_module_ids(user)`` returns, when the caller has them.
    """
    wanted = module.current_version.prerequisites
    if not wanted:
        return []
    passed = passed_module_ids(user) if passed is None else passed
    modules = {
        m.id: m
        for m in db.session.scalars(
            sa.select(Module)
            .where(Module.id.in_(wanted))
            .options(joinedload(Module.current_version))
        )
    }
    result = []
    for module_id in wanted:
        found = modules.get(module_id)
        title = found.current_version.title if found and found.current_version else None
        result.append(Prerequisite(module_id, title, module_id in passed))
    return result


def gate(user, module: Module, enrolment: Enrolment | None, prerequisites) -> str | None:
    """Why ``user`` may not read the module's lessons, or None when they may.

    ``"retired"``: a learner not enrolled before the module retired;
    ``"prerequisites"``: a learner who has not passed every theory prerequisite.
    Staff previews are never gated.
    """
    if not records_learning(user):
        return None
    if not is_open_to(user, module, enrolment):
        return "retired"
    if any(not prerequisite.met for prerequisite in prerequisites):
        return "prerequisites"
    return None


def is_launch_due(enrolment: Enrolment | None, now=None) -> bool:
    """True when opening the module now records a launch (a first opening, or one more
    than ``RELAUNCH_AFTER`` after the last launch); False for a reload, which writes
    nothing."""
    if enrolment is None:
        return True
    return (now or utcnow()) - enrolment.last_launched_at >= RELAUNCH_AFTER


def open_module(user, module: Module, enrolment: Enrolment | None = None) -> Enrolment | None:
    """Record that ``user`` opened ``module``; return their enrolment (None for staff).

    The first opening creates the enrolment and writes ``launched`` and ``initialized``;
    so does an opening more than ``RELAUNCH_AFTER`` after the last launch. Reloads write
    nothing. Raises ``CatalogError`` when the module is retired and the learner was not
    enrolled. The caller checks prerequisites first; ``enrolment`` is the learner's
    enrolment when the caller has read it (None: read here).
    """
    if not records_learning(user):
        return None
    now = utcnow()
    enrolment = enrolment or enrolment_for(user, module.id)
    if enrolment is None:
        if module.is_retired:
            raise CatalogError(_l("This module is retired and takes no new learners."))
        enrolment, created = _insert_once(
            Enrolment(user_id=user.id, module_id=module.id, enrolled_at=now, last_launched_at=now),
            lambda: enrolment_for(user, module.id),
        )
        if created:
            _record_launch(user, module, enrolment)
        return enrolment
    if is_launch_due(enrolment, now):
        enrolment.last_launched_at = now
        _record_launch(user, module, enrolment)
        db.session.flush()
    return enrolment


def mark_read(user, module: Module, lesson: Lesson, enrolment: Enrolment | None = None) -> bool:
    """Record that ``user`` read ``lesson`` (of the current version); True if new.

    Writes one ``experienced`` statement per learner, lesson and version; marking it
    again (a double click, a second tab) changes nothing. Staff previews record nothing.
    ``enrolment``: the learner's enrolment when the caller has read it.
    """
    enrolment = open_module(user, module, enrolment)
    if enrolment is None:
        return False
    version = module.current_version
    read, created = _insert_once(
        LessonRead(
            user_id=user.id,
            module_id=module.id,
            version_id=version.id,
            lesson_slug=lesson.slug,
            read_at=utcnow(),
        ),
        lambda: None,
    )
    if created:
        xapi.record(
            xapi.LearningEvent(
                kind="lesson.experienced",
                learner=user,
                activity=lesson_activity(module.id, lesson),
                occurred_at=read.read_at,
                registration=enrolment.registration,
                parent=module_activity(module),
            )
        )
        _complete_if_done(user, module, enrolment, read.read_at)
        cmi5.lesson_read(user, module.id, read.read_at)
        db.session.flush()
    return created


def _complete_if_done(user, module: Module, enrolment: Enrolment, at) -> None:
    """Write ``completed`` when the last lesson is read after the quiz was passed.

    (When the lessons are read first, the quiz writes it on the passing submission.)
    """
    lessons = lesson_slugs([module.current_version])[module.current_version_id]
    if lessons <= read_slugs(user, module.id) and module.id in passed_module_ids(user):
        xapi.record(
            xapi.LearningEvent(
                kind="module.completed",
                learner=user,
                activity=module_activity(module),
                occurred_at=at,
                registration=enrolment.registration,
                result=xapi.Result(success=True, completion=True),
            )
        )


def read_slugs(user, module_id: str) -> set[str]:
    """Slugs of the module's lessons ``user`` has read, in any version."""
    return set(
        db.session.scalars(
            sa.select(LessonRead.lesson_slug).where(
                LessonRead.user_id == user.id, LessonRead.module_id == module_id
            )
        )
    )


#: (version id, module id, content hash) -> the slugs of its lessons. A version never
#: changes once loaded; the module and hash guard against an id reused after a rollback.
_LESSON_SLUGS: dict[tuple[int, str, str], frozenset[str]] = {}
_LESSON_SLUGS_MAX = 4096


def lesson_slugs(versions: list[ModuleVersion]) -> dict[int, frozenset[str]]:
    """Version id -> the slugs of its lessons (one query for the versions not cached)."""
    missing = [v.id for v in versions if _slugs_key(v) not in _LESSON_SLUGS]
    if missing:
        found: dict[int, set[str]] = {version_id: set() for version_id in missing}
        for version_id, slug in db.session.execute(
            sa.select(Lesson.version_id, Lesson.slug).where(Lesson.version_id.in_(missing))
        ):
            found[version_id].add(slug)
        if len(_LESSON_SLUGS) + len(found) > _LESSON_SLUGS_MAX:
            _LESSON_SLUGS.clear()
        for version in versions:
            if version.id in found:
                _LESSON_SLUGS[_slugs_key(version)] = frozenset(found[version.id])
    return {v.id: _LESSON_SLUGS[_slugs_key(v)] for v in versions}


def _slugs_key(version: ModuleVersion) -> tuple[int, str, str]:
    return version.id, version.module_id, version.content_hash


def set_status(module: Module, status: str, *, by) -> None:
    """Enable or retire ``module`` (audited). A retired module takes no new enrolments."""
    if status not in MODULE_STATUSES:
        raise CatalogError(f"{status!r} is not one of {', '.join(MODULE_STATUSES)}")
    if module.status == status:
        return
    module.status = status
    audit.record(
        f"catalog.module.{'retired' if status == 'retired' else 'enabled'}",
        actor=by,
        target_type="module",
        target_id=module.id,
    )
    db.session.flush()


def module_activity(module: Module) -> xapi.Activity:
    return xapi.Activity(
        kind="module", path=f"modules/{module.id}", name=module.current_version.title
    )


def lesson_activity(module_id: str, lesson: Lesson) -> xapi.Activity:
    return xapi.Activity(
        kind="lesson", path=f"modules/{module_id}/lessons/{lesson.slug}", name=lesson.title
    )


def _record_launch(user, module: Module, enrolment: Enrolment) -> None:
    activity = module_activity(module)
    for kind in ("module.launched", "module.initialized"):
        xapi.record(
            xapi.LearningEvent(
                kind=kind,
                learner=user,
                activity=activity,
                occurred_at=enrolment.last_launched_at,
                registration=enrolment.registration,
            )
        )


def _insert_once(row, find_existing):
    """Insert ``row`` in a savepoint; on a unique clash return ``(find_existing(), False)``."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return find_existing(), False
    return row, True
