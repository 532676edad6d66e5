"""Loading packages into the database (``lms modules sync``).

Everything is validated before anything is written; each module's new version is then
written inside its own savepoint, so a failure loads nothing of that module and leaves
its previous version serving. Unchanged packages change nothing.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms import audit
from lms.catalog.checking import check_prerequisites
from lms.catalog.models import Lesson, LessonImage, Module, ModuleVersion, SyncReport
from lms.catalog.package import Package, PackageResult, find_packages, manifest_dict, read_package
from lms.db_types import utcnow
from lms.extensions import db

log = logging.getLogger(__name__)

#: Key of the PostgreSQL advisory lock that serialises concurrent syncs.
SYNC_LOCK_KEY = 7_215_004
#: Lesson images are addressed relative to the lesson page ``/modules/<id>/lessons/<slug>``.
IMAGE_URL_PREFIX = "../files"


@dataclass
class SyncEntry:
    #: The module id, or the folder name when module.yaml could not be read.
    module: str
    path: str
    #: ``loaded`` (a new version), ``unchanged``, ``restored`` (an earlier version is
    #: current again), ``refused`` (problems; the previous version keeps serving) or
    #: ``absent`` (loaded before, no package now; it keeps serving until retired).
    outcome: str
    content_hash: str | None = None
    problems: list[str] = field(default_factory=list)


def sync_packages(root: Path) -> SyncReport:
    """Load every package under ``root``; return the report (added and flushed).

    The caller commits. Raises ``FileNotFoundError`` when ``root`` is not a folder.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder")
    _lock()
    report = SyncReport(started_at=utcnow())
    results = [read_package(path, IMAGE_URL_PREFIX) for path in find_packages(root)]
    check_prerequisites(results, _loaded_prerequisites())
    entries = [_sync_one(result) for result in results]
    present = {entry.module for entry in entries}
    for module_id in db.session.scalars(sa.select(Module.id).order_by(Module.id)):
        if module_id not in present:
            entries.append(SyncEntry(module_id, "", "absent"))
    report.entries = [asdict(entry) for entry in entries]
    report.finished_at = utcnow()
    db.session.add(report)
    db.session.flush()
    return report


def _lock() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(SYNC_LOCK_KEY)))


def _loaded_prerequisites() -> dict[str, list[str]]:
    """The prerequisites of each module's current version, as served now."""
    rows = db.session.execute(
        sa.select(Module.id, ModuleVersion.prerequisites).join(
            ModuleVersion, Module.current_version_id == ModuleVersion.id
        )
    )
    return dict(rows.all())


def _sync_one(result: PackageResult) -> SyncEntry:
    entry = SyncEntry(result.module_id or result.path.name, str(result.path), "refused")
    if result.package is None:
        entry.problems = [problem.format(str(result.path)) for problem in sorted(result.problems)]
        log.warning("module package %s refused: %d problem(s)", result.path, len(entry.problems))
        return entry
    package = result.package
    entry.content_hash = package.content_hash
    module = db.session.get(Module, package.id)
    existing = db.session.scalar(
        sa.select(ModuleVersion).where(
            ModuleVersion.module_id == package.id,
            ModuleVersion.content_hash == package.content_hash,
        )
    )
    if module is not None and existing is not None:
        if module.current_version_id == existing.id:
            entry.outcome = "unchanged"
        else:
            module.current_version = existing
            _audit("catalog.module.restored", existing)
            entry.outcome = "restored"
        return entry
    try:
        with db.session.begin_nested():
            version = _write_version(module, package)
    except IntegrityError as error:
        log.warning("module %s: version not written: %s", package.id, error)
        entry.problems = [f"{result.path}: loaded at the same time by another sync; run it again"]
        return entry
    _audit("catalog.module.loaded", version)
    entry.outcome = "loaded"
    return entry


def _write_version(module: Module | None, package: Package) -> ModuleVersion:
    if module is None:
        module = Module(id=package.id, status="enabled")
        db.session.add(module)
        db.session.flush()
    version = ModuleVersion(
        module_id=module.id,
        content_hash=package.content_hash,
        questions=package.questions,
        **manifest_dict(package),
    )
    version.lessons = [
        Lesson(
            position=position,
            slug=lesson.slug,
            title=lesson.title,
            minutes=lesson.minutes,
            html=lesson.html,
            toc=lesson.toc,
        )
        for position, lesson in enumerate(package.lessons)
    ]
    db.session.add(version)
    db.session.flush()
    for image in package.images.values():
        db.session.add(
            LessonImage(
                version_id=version.id, name=image.name, media_type=image.media_type, data=image.data
            )
        )
    module.current_version = version
    db.session.flush()
    return version


def _audit(action: str, version: ModuleVersion) -> None:
    audit.record(
        action,
        target_type="module",
        target_id=version.module_id,
        details={"content_hash": version.content_hash, "label": version.label},
    )


def last_report() -> SyncReport | None:
    """The report of the most recent sync, or None before the first."""
    return db.session.scalar(sa.select(SyncReport).order_by(SyncReport.id.desc()).limit(1))
