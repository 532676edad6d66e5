"""Checking packages together: prerequisites that name no module, and cycles.

Pure functions. ``check_path`` is what ``lms modules check PATH`` runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from lms.catalog.package import MANIFEST, PackageResult, find_packages, read_package
from lms.catalog.schema import Problem
from lms.catalog.sourcetext import SourceError, load_yaml


def check_path(root: Path) -> list[PackageResult]:
    """Read and check every package at ``root`` (one package, or a folder of them).

    A single package's prerequisites are resolved against the packages beside it.
    """
    paths = find_packages(root)
    results = [read_package(path) for path in paths]
    siblings = {}
    if paths == [root] and root.parent.is_dir():
        siblings = {
            folder.name: declared_prerequisites(folder)
            for folder in find_packages(root.parent)
            if folder != root and (folder / MANIFEST).is_file()
        }
    check_prerequisites(results, siblings)
    return results


def declared_prerequisites(folder: Path) -> list[str]:
    """The prerequisites a package's ``module.yaml`` declares, read leniently ([] if unreadable)."""
    try:
        value = load_yaml((folder / MANIFEST).read_text(encoding="utf-8")).value
    except (OSError, UnicodeDecodeError, SourceError):
        return []
    declared = value.get("prerequisites") if isinstance(value, dict) else None
    return (
        [item for item in declared if isinstance(item, str)] if isinstance(declared, list) else []
    )


def check_prerequisites(
    results: Iterable[PackageResult], known: Mapping[str, Iterable[str]] | None = None
) -> None:
    """Add to ``results`` the problems that need all packages: unknown ids and cycles.

    ``known`` maps modules already loaded to the prerequisites they are served with.
    The graph checked for cycles is what would serve after loading: sound packages with
    their declared prerequisites, broken ones as already loaded (else as declared).
    A package in a cycle, or naming no module, loses its ``package``.
    """
    results = list(results)
    graph: dict[str, list[str]] = {key: list(value) for key, value in (known or {}).items()}
    for result in results:
        manifest = result.manifest
        if manifest and manifest.id and (result.package or manifest.id not in graph):
            graph[manifest.id] = manifest.prerequisites
    existing = set(graph) | {result.module_id for result in results if result.module_id}
    for result in results:
        manifest = result.manifest
        if manifest is None or manifest.id is None:
            continue
        pairs = zip(manifest.prerequisites, manifest.prerequisite_lines, strict=True)
        for module_id, line in pairs:
            if module_id not in existing:
                _refuse(
                    result,
                    Problem(MANIFEST, line, "prerequisites", f"{module_id!r} names no module"),
                )
            elif module_id == manifest.id:
                _refuse(
                    result,
                    Problem(MANIFEST, line, "prerequisites", "a module cannot require itself"),
                )
        cycle = find_cycle(graph, manifest.id)
        if cycle and len(cycle) > 2:
            line = manifest.prerequisite_lines[0] if manifest.prerequisite_lines else 1
            message = "prerequisites form a cycle: " + " -> ".join(cycle)
            _refuse(result, Problem(MANIFEST, line, "prerequisites", message))


def _refuse(result: PackageResult, problem: Problem) -> None:
    result.problems.append(problem)
    result.package = None


def find_cycle(graph: Mapping[str, Iterable[str]], start: str) -> list[str] | None:
    """A path ``[start, ..., start]`` following prerequisites back to ``start``, or None."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    visited: set[str] = set()
    while stack:
        node, path = stack.pop()
        for following in graph.get(node, ()):
            if following == start:
                return [*path, start]
            if following not in visited:
                visited.add(following)
                stack.append((following, [*path, following]))
    return None


def all_problems(results: Iterable[PackageResult]) -> list[tuple[PackageResult, Problem]]:
    """Every problem of ``results``, package by package, in file and line order."""
    return [(result, problem) for result in results for problem in sorted(result.problems)]
