"""Reading a module package folder: every file checked, the content hashed, lessons rendered.

Pure functions over the file system (no Flask, no database). ``read_package`` checks one
package on its own; ``check_prerequisites`` checks what needs the other packages (unknown
prerequisites and cycles). A package with any problem is never loaded.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lms.catalog.manifest import Manifest, check_lesson_meta, check_manifest
from lms.catalog.questions import check_question_bank
from lms.catalog.render import (
    ADMONITION_TYPES,
    admonition_types,
    image_references,
    is_local_image,
    media_type,
    render_lesson,
)
from lms.catalog.schema import FileChecker, Problem
from lms.catalog.sourcetext import SourceError, load_yaml, split_front_matter

#: Folders under the modules root that are not theory modules.
NOT_MODULES = frozenset({"practicals"})
MAX_TEXT_BYTES = 1024 * 1024
MAX_IMAGE_BYTES = 2 * 1024 * 1024
MANIFEST, QUIZ, LESSONS = "module.yaml", "quiz.yaml", "lessons"
#: Lesson slugs drop the ordering prefix of the file name: ``01-why-gmp.md`` -> ``why-gmp``.
ORDER_PREFIX = re.compile(r"^\d+[-_]")
IMAGE_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),
}


@dataclass
class LessonContent:
    slug: str
    file: str
    title: dict[str, str]
    minutes: int
    html: str
    toc: list[dict]
    images: list[str]


@dataclass
class Image:
    name: str
    media_type: str
    data: bytes


@dataclass
class Package:
    """A package that passed every check of its own; ready to load."""

    path: Path
    manifest: Manifest
    lessons: list[LessonContent]
    questions: list[dict]
    images: dict[str, Image]
    content_hash: str

    @property
    def id(self) -> str:
        return self.manifest.id


@dataclass
class PackageResult:
    """What reading one folder gave: the package (when sound) and every problem found."""

    path: Path
    module_id: str | None
    package: Package | None
    problems: list[Problem] = field(default_factory=list)
    #: What could be read of ``module.yaml`` (None when it could not be parsed).
    manifest: Manifest | None = None


def find_packages(root: Path) -> list[Path]:
    """The package folders at ``root``: ``root`` itself, or each folder under it."""
    if (root / MANIFEST).is_file():
        return [root]
    return sorted(
        child
        for child in root.iterdir()
        if child.is_dir() and not child.name.startswith(".") and child.name not in NOT_MODULES
    )


def content_hash(path: Path) -> str:
    """SHA-256 over the package's files (``module.yaml``, ``quiz.yaml``, ``lessons/``)."""
    digest = hashlib.sha256()
    for relative, data in sorted(_package_files(path)):
        digest.update(f"{relative}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _package_files(path: Path) -> Iterable[tuple[str, bytes]]:
    for name in (MANIFEST, QUIZ):
        if (path / name).is_file():
            yield name, (path / name).read_bytes()
    lessons = path / LESSONS
    if lessons.is_dir():
        for item in lessons.iterdir():
            if item.is_file() and not item.is_symlink():
                yield f"{LESSONS}/{item.name}", item.read_bytes()


def read_package(path: Path, image_url_prefix: str = "../files") -> PackageResult:
    """Check the package at ``path`` on its own and, when sound, return it rendered.

    Every file is checked even when another has problems, so that an author sees all
    of them. Lesson images are addressed as ``{image_url_prefix}/{content hash}/{name}``,
    relative to the lesson page.
    """
    result = PackageResult(path, None, None)
    checker, manifest = _read_manifest(path, result)
    if manifest is not None and manifest.id is not None and manifest.id != path.name:
        checker.add(("id",), f"{manifest.id!r} differs from the folder name {path.name!r}")
    result.problems.extend(checker.problems)
    result.manifest = manifest
    if manifest is None:
        return result
    result.module_id = manifest.id
    digest = content_hash(path)
    lessons = _read_lessons(path, manifest, f"{image_url_prefix}/{digest}", result.problems)
    questions = _read_questions(path, manifest, result.problems)
    images = _read_images(path, lessons, result.problems)
    if not result.problems:
        result.package = Package(path, manifest, lessons, questions, images, digest)
    return result


def _read_text(path: Path, relative: str, problems: list[Problem]) -> str | None:
    file = path / relative
    if file.is_symlink() or not file.is_file():
        problems.append(Problem(relative, 1, "-", "file not found"))
        return None
    data = file.read_bytes()
    if len(data) > MAX_TEXT_BYTES:
        problems.append(Problem(relative, 1, "-", f"larger than {MAX_TEXT_BYTES} bytes"))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.append(Problem(relative, line, "-", "not valid UTF-8 text"))
        return None


def _read_manifest(path: Path, result: PackageResult) -> tuple[FileChecker, Manifest | None]:
    text = _read_text(path, MANIFEST, result.problems)
    checker = FileChecker(MANIFEST)
    if text is None:
        return checker, None
    try:
        checker.document = load_yaml(text)
    except SourceError as error:
        checker.add((), f"invalid YAML: {error.message}", line=error.line)
        return checker, None
    checker.problems.extend(FileChecker(MANIFEST, checker.document).problems)
    return checker, check_manifest(checker.document, checker)


def _read_lessons(
    path: Path, manifest: Manifest, image_base: str, problems: list[Problem]
) -> list[LessonContent]:
    lessons, slugs = [], set()
    for file_name, line in zip(manifest.lesson_files, manifest.lesson_lines, strict=True):
        relative = f"{LESSONS}/{file_name}"
        if (path / relative).is_symlink() or not (path / relative).is_file():
            problems.append(Problem(MANIFEST, line, "lessons", f"{relative} does not exist"))
            continue
        slug = ORDER_PREFIX.sub("", file_name[: -len(".md")]).lower()
        if slug in slugs:
            problems.append(Problem(MANIFEST, line, "lessons", f"two lessons named {slug!r}"))
        slugs.add(slug)
        lesson = _read_lesson(path, relative, slug, image_base, problems)
        if lesson is not None:
            lessons.append(lesson)
    return lessons


def _read_lesson(path, relative, slug, image_base, problems) -> LessonContent | None:
    text = _read_text(path, relative, problems)
    if text is None:
        return None
    try:
        parts = split_front_matter(text)
    except SourceError as error:
        problems.append(Problem(relative, error.line, "front matter", error.message))
        return None
    checker = FileChecker(relative, parts.meta)
    meta = check_lesson_meta(parts.meta, checker)
    for offset, target in image_references(parts.body):
        if not is_local_image(target):
            checker.add(
                ("image",),
                f"{target!r} is not an image file beside the lesson (svg, png, jpg, webp)",
                line=parts.body_line + offset,
            )
        elif not (path / LESSONS / target).is_file() or (path / LESSONS / target).is_symlink():
            checker.add(
                ("image",), f"{target!r} does not exist in lessons/", line=parts.body_line + offset
            )
    for offset, kind in admonition_types(parts.body):
        if kind not in ADMONITION_TYPES:
            message = f"admonition type {kind!r} is not one of {', '.join(ADMONITION_TYPES)}"
            checker.add(("admonition",), message, line=parts.body_line + offset)
    problems.extend(checker.problems)
    if meta is None or checker.problems:
        return None
    rendered = render_lesson(parts.body, lambda name: f"{image_base}/{name}")
    return LessonContent(
        slug, relative, meta.title, meta.minutes, rendered.html, rendered.toc, rendered.images
    )


def _read_questions(path: Path, manifest: Manifest, problems: list[Problem]) -> list[dict]:
    text = _read_text(path, QUIZ, problems)
    if text is None:
        return []
    try:
        document = load_yaml(text)
    except SourceError as error:
        problems.append(Problem(QUIZ, error.line, "-", f"invalid YAML: {error.message}"))
        return []
    checker = FileChecker(QUIZ, document)
    source_ids = {source["id"] for source in manifest.sources if isinstance(source["id"], str)}
    questions = check_question_bank(document.value, checker, source_ids)
    wanted = (manifest.quiz or {}).get("questions_per_attempt")
    if not checker.problems and isinstance(wanted, int) and wanted > len(questions):
        checker.add(
            ("questions",),
            f"the bank has {len(questions)} questions; "
            f"quiz.questions_per_attempt asks for {wanted}",
        )
    problems.extend(checker.problems)
    return questions


def _read_images(
    path: Path, lessons: list[LessonContent], problems: list[Problem]
) -> dict[str, Image]:
    images: dict[str, Image] = {}
    for lesson in lessons:
        for name in lesson.images:
            if name in images:
                continue
            data = (path / LESSONS / name).read_bytes()
            kind = media_type(name) or ""
            problem = _image_problem(data, kind)
            if problem:
                problems.append(Problem(f"{LESSONS}/{name}", 1, "-", problem))
            else:
                images[name] = Image(name, kind, data)
    return images


def _image_problem(data: bytes, kind: str) -> str | None:
    if len(data) > MAX_IMAGE_BYTES:
        return f"larger than {MAX_IMAGE_BYTES} bytes"
    if kind == "image/svg+xml":
        return None if b"<svg" in data[:4096] else "not an SVG image"
    signatures = IMAGE_SIGNATURES.get(kind, ())
    if not any(data.startswith(signature) for signature in signatures):
        return f"the file's content is not {kind}"
    return None


def manifest_dict(package: Package) -> dict[str, Any]:
    """The parts of a package's manifest stored on its version."""
    manifest = package.manifest
    return {
        "label": manifest.label,
        "title": manifest.title,
        "summary": manifest.summary,
        "sector": manifest.sector,
        "estimated_minutes": manifest.estimated_minutes,
        "validity_months": manifest.validity_months,
        "prerequisites": manifest.prerequisites,
        "quiz_settings": manifest.quiz,
        "sources": manifest.sources,
    }
