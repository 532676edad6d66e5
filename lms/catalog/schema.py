"""Validation of package files against the format of ``modules/README.md``.

Pure functions. Each file is checked by a ``FileChecker`` that records every problem
with the file, the line and the field; checks go on after a problem, so an author sees
all of them at once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lms.catalog.sourcetext import Document, Path

LANGUAGES = ("en", "fr")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SECTORS = ("biopharma", "chemistry", "both")
REVIEW_MODES = ("score", "wrong", "full")
MAX_MINUTES = 10_000


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a package: ``file`` is relative to the package folder."""

    file: str
    line: int
    field: str
    message: str

    def format(self, base: str = "") -> str:
        """``file:line: field: message``, the file prefixed with ``base`` when given."""
        name = f"{base.rstrip('/')}/{self.file}" if base else self.file
        return f"{name}:{self.line}: {self.field or '-'}: {self.message}"


def field_name(path: Path) -> str:
    """``("questions", 3, "answer")`` -> ``questions[3].answer``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class FileChecker:
    """Collects the problems of one file whose YAML (if any) is ``document``."""

    def __init__(self, file: str, document: Document | None = None):
        self.file = file
        self.document = document
        self.problems: list[Problem] = []
        if document is not None:
            for path in document.duplicates:
                self.add(path, "this key appears more than once")

    def add(self, path: Path, message: str, *, line: int | None = None) -> None:
        if line is None:
            line = self.document.line(path) if self.document else 1
        self.problems.append(Problem(self.file, line, field_name(path), message))

    # -- shapes -------------------------------------------------------------------------

    def mapping(
        self,
        value: Any,
        path: Path,
        *,
        required: Iterable[str] = (),
        optional: Iterable[str] = (),
    ) -> dict[str, Any] | None:
        """Check ``value`` is a mapping with exactly the allowed keys; return it or None."""
        if not isinstance(value, Mapping):
            self.add(path, f"expected a mapping of keys, not {_kind(value)}")
            return None
        required = tuple(required)
        allowed = set(required) | set(optional)
        for key in value:
            if str(key) not in allowed:
                self.add((*path, str(key)), f"unknown key {key!r}")
        for key in required:
            if key not in value:
                self.add(path, f"missing required key {key!r}")
        return {str(key): item for key, item in value.items()}

    def sequence(self, value: Any, path: Path, *, min_items: int = 0) -> list[Any]:
        """Check ``value`` is a list of at least ``min_items``; return it (or [])."""
        if not isinstance(value, list):
            self.add(path, f"expected a list, not {_kind(value)}")
            return []
        if len(value) < min_items:
            self.add(path, f"needs at least {min_items} item(s)")
        return value

    def text(self, value: Any, path: Path, *, max_length: int = 10_000) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.add(path, f"expected non-empty text, not {_kind(value)}")
            return None
        if len(value) > max_length:
            self.add(path, f"is longer than {max_length} characters")
        return value.strip()

    def slug(self, value: Any, path: Path) -> str | None:
        if not isinstance(value, str) or not SLUG.match(value) or len(value) > 64:
            self.add(
                path,
                f"{value!r} is not an identifier (lower-case letters, digits and hyphens)",
            )
            return None
        return value

    def integer(self, value: Any, path: Path, *, minimum: int, maximum: int = MAX_MINUTES):
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(path, f"expected a whole number, not {_kind(value)}")
            return None
        if not minimum <= value <= maximum:
            self.add(path, f"must be between {minimum} and {maximum}, not {value}")
            return None
        return value

    def number(self, value: Any, path: Path) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add(path, f"expected a number, not {_kind(value)}")
            return None
        return value

    def boolean(self, value: Any, path: Path) -> bool | None:
        if not isinstance(value, bool):
            self.add(path, f"expected true or false, not {_kind(value)}")
            return None
        return value

    def choice(self, value: Any, path: Path, allowed: tuple[str, ...]) -> str | None:
        if value not in allowed:
            self.add(path, f"{value!r} is not one of {', '.join(allowed)}")
            return None
        return value

    def language_map(
        self, value: Any, path: Path, *, required: tuple[str, ...] = LANGUAGES
    ) -> dict[str, str] | None:
        """Check a ``{en: ..., fr: ...}`` map: ``required`` languages present, no others."""
        if not isinstance(value, Mapping):
            self.add(
                path, f"expected a language map such as {{en: ..., fr: ...}}, not {_kind(value)}"
            )
            return None
        result: dict[str, str] = {}
        for language, text in value.items():
            if language not in LANGUAGES:
                self.add((*path, str(language)), f"unknown language {language!r}")
            elif (checked := self.text(text, (*path, language))) is not None:
                result[language] = checked
        for language in required:
            if language not in value:
                self.add(path, f"missing the {_language_name(language)} translation ({language})")
        return result if "en" in result else None

    def unique_ids(self, items: list[Any], path: Path, what: str) -> list[str]:
        """Check each item's ``id`` is a slug, unique in ``items``; return the good ids."""
        ids: list[str] = []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping) or "id" not in item:
                continue
            item_id = self.slug(item["id"], (*path, index, "id"))
            if item_id is None:
                continue
            if item_id in ids:
                self.add((*path, index, "id"), f"duplicate {what} id {item_id!r}")
            ids.append(item_id)
        return ids


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    names = {bool: "true/false", int: "a number", float: "a number", str: "text"}
    names.update({list: "a list", dict: "a mapping"})
    return names.get(type(value), type(value).__name__)


def _language_name(code: str) -> str:
    return {"en": "English", "fr": "French"}.get(code, code)
