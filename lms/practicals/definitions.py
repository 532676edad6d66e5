"""Practical type files (``modules/practicals/<id>.yaml``): read, checked, hashed.

Pure functions over the file system. ``read_definition`` checks one file on its own;
``check_references`` checks what needs the others: modules and practicals a rule names
must exist, and practical prerequisites must not form a cycle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lms.catalog.checking import find_cycle
from lms.catalog.schema import FileChecker, Problem
from lms.catalog.sourcetext import SourceError, load_yaml
from lms.practicals import rules

FOLDER = "practicals"
KEYS = ("id", "title", "summary", "room_kind", "duration_minutes", "default_capacity")
ROOM_KINDS = (
    "clean-room-grade-a",
    "clean-room-grade-b",
    "clean-room-grade-c",
    "clean-room-grade-d",
    "atex-hall",
    "instrumentation-lab",
    "laboratory",
    "workshop",
)
MAX_CAPACITY = 200
MAX_BYTES = 256 * 1024


@dataclass
class Definition:
    """A sound practical type file, ready to load."""

    id: str
    title: dict[str, str]
    summary: dict[str, str]
    room_kind: str
    duration_minutes: int
    default_capacity: int
    rule: rules.Rule
    content_hash: str

    def as_data(self) -> dict[str, Any]:
        """The definition as stored (JSON): the rule in its file form."""
        return {
            "id": self.id,
            "title": self.title,
            "summary": self.summary,
            "room_kind": self.room_kind,
            "duration_minutes": self.duration_minutes,
            "default_capacity": self.default_capacity,
            "prerequisites": self.rule.as_data(),
        }


@dataclass
class DefinitionResult:
    """What reading one file gave: the definition (when sound) and every problem."""

    path: Path
    type_id: str | None
    definition: Definition | None
    problems: list[Problem] = field(default_factory=list)
    #: The rule as read, even when another part of the file is unsound (for cross-checks).
    rule: rules.Rule | None = None
    #: Line of the ``prerequisites`` key, for problems found across files.
    rule_line: int = 1


def find_definitions(root: Path) -> list[Path]:
    """The practical type files: ``root/practicals/*.yaml``, or ``root`` if it is one
    (or is the practicals folder itself)."""
    if root.is_file():
        return [root]
    folder = root if root.name == FOLDER else root / FOLDER
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if path.suffix == ".yaml" and path.is_file())


def read_definition(path: Path) -> DefinitionResult:
    """Read and check one practical type file."""
    result = DefinitionResult(path, None, None)
    try:
        data = path.read_bytes()
        if len(data) > MAX_BYTES:
            raise SourceError(1, f"the file is larger than {MAX_BYTES} bytes")
        document = load_yaml(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        result.problems.append(Problem(path.name, 1, "", f"cannot be read: {error}"))
        return result
    except SourceError as error:
        result.problems.append(Problem(path.name, error.line, "", error.message))
        return result
    checker = FileChecker(path.name, document)
    value = checker.mapping(document.value, (), required=KEYS, optional=("prerequisites",))
    if value is None:
        result.problems = checker.problems
        return result
    type_id = checker.slug(value.get("id"), ("id",)) if "id" in value else None
    if type_id and path.stem != type_id:
        checker.add(("id",), f"the file must be named after the id: {type_id}.yaml")
    result.type_id = type_id or path.stem
    fields = {
        "title": _language_map(checker, value, "title"),
        "summary": _language_map(checker, value, "summary"),
        "room_kind": checker.choice(value.get("room_kind"), ("room_kind",), ROOM_KINDS),
        "duration_minutes": _integer(checker, value, "duration_minutes", 15, 24 * 60),
        "default_capacity": _integer(checker, value, "default_capacity", 1, MAX_CAPACITY),
    }
    if "prerequisites" in value:
        result.rule = rules.parse_rule(value["prerequisites"], checker)
        result.rule_line = document.line(("prerequisites",))
    else:
        result.rule = rules.NO_PREREQUISITES
    result.problems = checker.problems
    if not result.problems and result.rule is not None:
        result.definition = Definition(
            id=type_id, rule=result.rule, content_hash=_hash(data), **fields
        )
    return result


def _language_map(checker: FileChecker, value: Mapping, key: str) -> dict[str, str] | None:
    return checker.language_map(value.get(key), (key,)) if key in value else None


def _integer(checker: FileChecker, value: Mapping, key: str, low: int, high: int) -> int | None:
    return checker.integer(value.get(key), (key,), minimum=low, maximum=high)


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def practical_prerequisites(rule: rules.Rule | None) -> list[str]:
    """Ids of the practical types a rule requires to be signed off."""
    if rule is None:
        return []
    return [c.practical for c in rules.conditions(rule) if c.practical]


def check_references(
    results: Iterable[DefinitionResult],
    module_ids: Iterable[str],
    known_practicals: Mapping[str, Iterable[str]] | None = None,
) -> None:
    """Add the problems that need every file: unknown modules or practicals, and cycles.

    ``known_practicals`` maps the types already loaded to the practicals they require.
    A definition with such a problem loses its ``definition`` (it will not load).
    """
    results = list(results)
    modules = set(module_ids)
    graph = {key: list(value) for key, value in (known_practicals or {}).items()}
    for result in results:
        if result.type_id and (result.definition or result.type_id not in graph):
            graph[result.type_id] = practical_prerequisites(result.rule)
    for result in results:
        if result.rule is None or result.type_id is None:
            continue
        for condition in rules.conditions(result.rule):
            if condition.module and condition.module not in modules:
                _refuse(result, f"{condition.module!r} names no module")
            if condition.practical and condition.practical not in graph:
                _refuse(result, f"{condition.practical!r} names no practical type")
            if condition.practical == result.type_id:
                _refuse(result, "a practical type cannot require itself")
        cycle = find_cycle(graph, result.type_id)
        if cycle and len(cycle) > 2:
            _refuse(result, "practical prerequisites form a cycle: " + " -> ".join(cycle))


def _refuse(result: DefinitionResult, message: str) -> None:
    result.problems.append(Problem(result.path.name, result.rule_line, "prerequisites", message))
    result.definition = None
