"""``module.yaml`` and lesson front matter: checked and normalised (pure functions)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lms.catalog.schema import REVIEW_MODES, SECTORS, FileChecker
from lms.catalog.sourcetext import Document

MODULE_KEYS = (
    "id",
    "version",
    "title",
    "summary",
    "sector",
    "estimated_minutes",
    "validity_months",
    "lessons",
    "quiz",
    "sources",
)
QUIZ_REQUIRED = ("pass_mark", "questions_per_attempt")
#: Quiz settings left out of ``module.yaml`` take these values.
QUIZ_DEFAULTS: dict[str, Any] = {
    "balance_topics": False,
    "shuffle_options": True,
    "max_attempts": None,
    "cooldown_minutes": 0,
    "time_limit_minutes": None,
    "review": "full",
}
LESSON_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*\.md$")
URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$")


@dataclass
class Manifest:
    """The normalised content of ``module.yaml``; with ``ok`` False, parts may be None."""

    id: str | None
    label: str | None
    title: dict[str, str] | None
    summary: dict[str, str] | None
    sector: str | None
    estimated_minutes: int | None
    validity_months: int | None
    prerequisites: list[str]
    lesson_files: list[str]
    quiz: dict[str, Any] | None
    sources: list[dict[str, str]]
    #: Line of each lesson file name and of the prerequisites, for later problems.
    lesson_lines: list[int] = field(default_factory=list)
    prerequisite_lines: list[int] = field(default_factory=list)
    #: True when ``module.yaml`` itself has no problem.
    ok: bool = True


def check_manifest(document: Document, checker: FileChecker) -> Manifest | None:
    """Check ``module.yaml``; return what could be read of it (None if not a mapping).

    The manifest is returned even with problems, so that lessons and questions can be
    checked too; ``ok`` says whether ``module.yaml`` itself is sound.
    """
    data = checker.mapping(document.value, (), required=MODULE_KEYS, optional=("prerequisites",))
    if data is None:
        return None
    before = len(checker.problems)
    prerequisites = _prerequisites(data.get("prerequisites", []), checker)
    lessons = _lesson_files(data.get("lessons"), checker) if "lessons" in data else []
    manifest = Manifest(
        id=checker.slug(data.get("id"), ("id",)) if "id" in data else None,
        label=_label(data.get("version"), checker),
        title=checker.language_map(data.get("title"), ("title",)) if "title" in data else None,
        summary=(
            checker.language_map(data.get("summary"), ("summary",)) if "summary" in data else None
        ),
        sector=checker.choice(data.get("sector"), ("sector",), SECTORS)
        if "sector" in data
        else None,
        estimated_minutes=_int(checker, data, "estimated_minutes", 1, 10_000),
        validity_months=_int(checker, data, "validity_months", 1, 240),
        prerequisites=[module_id for module_id, _index in prerequisites],
        lesson_files=[name for name, _index in lessons],
        quiz=_quiz(data.get("quiz"), checker) if "quiz" in data else None,
        sources=_sources(data.get("sources"), checker) if "sources" in data else [],
        lesson_lines=[document.line(("lessons", index)) for _name, index in lessons],
        prerequisite_lines=[
            document.line(("prerequisites", index)) for _id, index in prerequisites
        ],
    )
    manifest.ok = len(checker.problems) == before
    return manifest


def _int(checker: FileChecker, data: dict, key: str, minimum: int, maximum: int) -> int | None:
    if key not in data:
        return None
    return checker.integer(data[key], (key,), minimum=minimum, maximum=maximum)


def _label(value: Any, checker: FileChecker) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        checker.add(("version",), f'write the version in quotes ("{value}"), so it stays text')
        return None
    return checker.text(value, ("version",), max_length=40) if value is not None else None


def _prerequisites(value: Any, checker: FileChecker) -> list[tuple[str, int]]:
    """The valid module ids listed, each with its index in the list."""
    result: list[tuple[str, int]] = []
    for index, item in enumerate(checker.sequence(value, ("prerequisites",))):
        module_id = checker.slug(item, ("prerequisites", index))
        if module_id in [seen for seen, _index in result]:
            checker.add(("prerequisites", index), f"{module_id!r} is listed twice")
        elif module_id:
            result.append((module_id, index))
    return result


def _lesson_files(value: Any, checker: FileChecker) -> list[tuple[str, int]]:
    """The valid lesson file names listed, each with its index in the list."""
    result: list[tuple[str, int]] = []
    for index, item in enumerate(checker.sequence(value, ("lessons",), min_items=1)):
        if not isinstance(item, str) or not LESSON_FILE.match(item):
            checker.add(("lessons", index), f"{item!r} is not a .md file name in lessons/")
        elif item in [seen for seen, _index in result]:
            checker.add(("lessons", index), f"{item!r} is listed twice")
        else:
            result.append((item, index))
    return result


def _quiz(value: Any, checker: FileChecker) -> dict[str, Any] | None:
    data = checker.mapping(value, ("quiz",), required=QUIZ_REQUIRED, optional=QUIZ_DEFAULTS)
    if data is None:
        return None
    settings = {**QUIZ_DEFAULTS, **data}
    path = ("quiz",)
    mark = checker.number(settings.get("pass_mark"), (*path, "pass_mark"))
    if mark is not None and not 0 < mark <= 1:
        checker.add((*path, "pass_mark"), f"must be above 0 and at most 1, not {mark}")
    checker.integer(
        settings.get("questions_per_attempt"), (*path, "questions_per_attempt"), minimum=1
    )
    checker.boolean(settings["balance_topics"], (*path, "balance_topics"))
    checker.boolean(settings["shuffle_options"], (*path, "shuffle_options"))
    for key, minimum in (("max_attempts", 1), ("time_limit_minutes", 1)):
        if settings[key] is not None:
            checker.integer(settings[key], (*path, key), minimum=minimum)
    checker.integer(settings["cooldown_minutes"], (*path, "cooldown_minutes"), minimum=0)
    checker.choice(settings["review"], (*path, "review"), REVIEW_MODES)
    return settings


def _sources(value: Any, checker: FileChecker) -> list[dict[str, str]]:
    items = checker.sequence(value, ("sources",), min_items=1)
    checker.unique_ids(items, ("sources",), "source")
    result = []
    for index, item in enumerate(items):
        path = ("sources", index)
        data = checker.mapping(item, path, required=("id", "title", "url"))
        if data is None:
            continue
        title = checker.text(data.get("title"), (*path, "title"), max_length=400)
        url = data.get("url")
        if not isinstance(url, str) or not URL.match(url):
            checker.add((*path, "url"), f"{url!r} is not an http(s) address")
        result.append({"id": data.get("id"), "title": title, "url": url})
    return result


@dataclass
class LessonMeta:
    title: dict[str, str]
    minutes: int


def check_lesson_meta(document: Document, checker: FileChecker) -> LessonMeta | None:
    """Check a lesson's front matter (``title`` in every language, ``minutes``)."""
    data = checker.mapping(document.value, (), required=("title", "minutes"))
    if data is None:
        return None
    title = checker.language_map(data.get("title"), ("title",)) if "title" in data else None
    minutes = (
        checker.integer(data.get("minutes"), ("minutes",), minimum=1, maximum=600)
        if "minutes" in data
        else None
    )
    if title is None or minutes is None:
        return None
    return LessonMeta(title, minutes)
