"""YAML documents and Markdown front matter, read with the line number of every value.

Pure functions: no Flask, no database. A problem in a package must name the line it is
on, so the YAML is composed into nodes first and every value's path (``("quiz",
"pass_mark")``, ``("questions", 3, "answer")``) is mapped to the line it starts on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

#: A path to a value inside a document: mapping keys (as text) and sequence indexes.
Path = tuple[str | int, ...]


class SourceError(ValueError):
    """The text is not valid YAML (or front matter); ``line`` is 1-based."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line
        self.message = message


@dataclass
class Document:
    """A parsed YAML value with the line of each path and the duplicated keys found."""

    value: Any
    lines: dict[Path, int] = field(default_factory=dict)
    #: Paths of keys that appear twice in the same mapping (YAML keeps the last silently).
    duplicates: list[Path] = field(default_factory=list)
    #: Added to every line: where the YAML starts in its file (front matter starts at 2).
    offset: int = 0

    def line(self, path: Path) -> int:
        """The line of ``path``, or of its nearest enclosing value that has one."""
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 1) + self.offset


def load_yaml(text: str, *, offset: int = 0) -> Document:
    """Parse one YAML document safely; raise ``SourceError`` with the line of the fault."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as error:  # a character YAML forbids, such as NUL
        line = text[: error.position].count("\n") + 1 + offset
        raise SourceError(line, f"character #x{error.character:04x} is not allowed") from error
    try:
        node = loader.get_single_node()
        value = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = (mark.line + 1 if mark else 1) + offset
        raise SourceError(line, error.problem or error.context or "invalid YAML") from error
    except yaml.YAMLError as error:
        raise SourceError(1 + offset, str(error)) from error
    finally:
        loader.dispose()
    document = Document(value, offset=offset)
    if node is not None:
        _index(node, (), document, set())
    return document


def _index(node: yaml.Node, path: Path, document: Document, seen: set[int]) -> None:
    document.lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen:  # an alias: indexed once, so a "billion laughs" stays linear
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            if key in keys:
                document.duplicates.append((*path, key))
            keys.add(key)
            document.lines[(*path, key)] = key_node.start_mark.line + 1
            _index(value_node, (*path, key), document, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _index(item, (*path, index), document, seen)


@dataclass
class FrontMatterText:
    """A Markdown file split into its front matter and its body."""

    meta: Document
    body: str
    #: The 1-based line of the file on which the body starts.
    body_line: int


def split_front_matter(text: str) -> FrontMatterText:
    """Split ``---`` front matter from the Markdown body; ``SourceError`` when malformed."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].rstrip() != "---":
        raise SourceError(1, "the file must start with a front matter block opened by ---")
    for index in range(1, len(lines)):
        if lines[index].rstrip() == "---":
            meta = load_yaml("".join(lines[1:index]), offset=1)
            return FrontMatterText(meta, "".join(lines[index + 1 :]), index + 2)
    raise SourceError(1, "the front matter block opened by --- is never closed by ---")
