"""The practicals step of ``lms modules check`` and ``lms modules sync``.

A practical type is identified by its id and updated in place when its file changes;
every loaded content is kept as a ``PracticalTypeRevision`` (and audited), and each
sign-off records the content hash it was signed against. A broken file loads nothing
and leaves the previously loaded content in force.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from lms import audit
from lms.catalog.package import MANIFEST, find_packages
from lms.catalog.sourcetext import SourceError, load_yaml
from lms.db_types import utcnow
from lms.extensions import db
from lms.practicals import definitions, rules
from lms.practicals.models import PracticalType, PracticalTypeRevision

log = logging.getLogger(__name__)


@dataclass
class LoadEntry:
    practical: str
    path: str
    #: ``loaded`` (new or changed), ``unchanged`` or ``refused``.
    outcome: str
    content_hash: str | None = None
    problems: list[str] = field(default_factory=list)


def modules_root(root: Path) -> Path | None:
    """The folder of module packages that ``root`` (as given to the commands) belongs to."""
    if root.is_file():
        return root.parent.parent
    if root.name == definitions.FOLDER:
        return root.parent
    if (root / MANIFEST).is_file():
        return None
    return root


def module_ids_in(root: Path) -> set[str]:
    """Ids of the module packages under ``root`` (read leniently: folder name otherwise)."""
    ids = set()
    for folder in find_packages(root):
        try:
            value = load_yaml((folder / MANIFEST).read_text(encoding="utf-8")).value
        except (OSError, UnicodeDecodeError, SourceError):
            value = None
        declared = value.get("id") if isinstance(value, dict) else None
        ids.add(declared if isinstance(declared, str) else folder.name)
    return ids


def check_practicals(root: Path) -> list[str]:
    """Check the practical type files at ``root``; return the problems as text lines."""
    base = modules_root(root)
    if base is None:
        return []
    results = [definitions.read_definition(path) for path in definitions.find_definitions(root)]
    siblings = {}
    if root.is_file():
        for path in definitions.find_definitions(base):
            if path != root:
                other = definitions.read_definition(path)
                siblings[other.type_id] = definitions.practical_prerequisites(other.rule)
    definitions.check_references(results, module_ids_in(base), siblings)
    return [
        problem.format(str(result.path.parent))
        for result in results
        for problem in sorted(result.problems)
    ]


def sync_practicals(root: Path) -> list[LoadEntry]:
    """Load every practical type file under ``root``; the caller commits.

    Modules named by rules must be loaded (run after the modules' sync).
    """
    results = [definitions.read_definition(path) for path in definitions.find_definitions(root)]
    loaded_modules = _loaded_module_ids()
    definitions.check_references(results, loaded_modules, _loaded_practicals())
    return [_load_one(result) for result in results]


def _loaded_module_ids() -> set[str]:
    from lms.catalog.models import Module

    return set(
        db.session.scalars(sa.select(Module.id).where(Module.current_version_id.is_not(None)))
    )


def _loaded_practicals() -> dict[str, list[str]]:
    loaded = {}
    for practical in db.session.scalars(sa.select(PracticalType)):
        rule = rules.rule_from_data(practical.prerequisites)
        loaded[practical.id] = definitions.practical_prerequisites(rule)
    return loaded


def _load_one(result: definitions.DefinitionResult) -> LoadEntry:
    entry = LoadEntry(result.type_id or result.path.stem, str(result.path), "refused")
    definition = result.definition
    if definition is None:
        entry.problems = [p.format(str(result.path.parent)) for p in sorted(result.problems)]
        log.warning("practical type %s refused: %d problem(s)", result.path, len(entry.problems))
        return entry
    entry.content_hash = definition.content_hash
    practical = db.session.get(PracticalType, definition.id)
    if practical is not None and practical.content_hash == definition.content_hash:
        entry.outcome = "unchanged"
        return entry
    data = definition.as_data()
    if practical is None:
        practical = PracticalType(id=definition.id)
        db.session.add(practical)
    for key in ("title", "summary", "room_kind", "duration_minutes", "default_capacity"):
        setattr(practical, key, data[key])
    practical.prerequisites = data["prerequisites"]
    practical.content_hash = definition.content_hash
    practical.updated_at = utcnow()
    db.session.add(
        PracticalTypeRevision(
            type_id=definition.id, content_hash=definition.content_hash, definition=data
        )
    )
    db.session.flush()
    audit.record(
        "practical.type.loaded",
        target_type="practical_type",
        target_id=definition.id,
        details={"content_hash": definition.content_hash},
    )
    entry.outcome = "loaded"
    return entry
