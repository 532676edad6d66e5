"""Lesson Markdown to safe HTML, with heading anchors, figures and a table of contents.

Pure functions. Two walls against a hostile package: raw HTML is never passed through
by Markdown (it comes out as visible text), and the result is sanitised by nh3 with an
allow-list of tags, attributes, classes and URL schemes.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as etree
from collections.abc import Callable
from dataclasses import dataclass, field

import markdown
import nh3
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ADMONITION_TYPES = ("note", "tip", "warning", "danger")
IMAGE_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
}
IMAGE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: ``![alt](target`` in Markdown source; used to find images and their lines.
IMAGE_REFERENCE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]*)")
ADMONITION_LINE = re.compile(r"^!!!\s*([A-Za-z0-9_-]*)")

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img", "kbd", "li",
    "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr",
    "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "loading"},
    "th": {"align"},
    "td": {"align"},
    "abbr": {"title"},
    **{f"h{level}": {"id"} for level in range(1, 7)},
}
ALLOWED_CLASSES = {
    "div": {"admonition", *ADMONITION_TYPES},
    "p": {"admonition-title"},
    "a": {"headerlink"},
}
_CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    allowed_classes=ALLOWED_CLASSES,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer",
    strip_comments=True,
)


@dataclass
class RenderedLesson:
    html: str
    #: Table of contents: ``{"level": 2, "id": "...", "text": "..."}`` in reading order.
    toc: list[dict] = field(default_factory=list)
    #: File names of the images the lesson shows.
    images: list[str] = field(default_factory=list)


def is_local_image(target: str) -> bool:
    """True for a plain file name beside the lesson (no folder, no scheme, no ``..``)."""
    return bool(IMAGE_NAME.match(target)) and ".." not in target and _suffix(target) in IMAGE_TYPES


def _suffix(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def media_type(name: str) -> str | None:
    return IMAGE_TYPES.get(_suffix(name))


class _FigureProcessor(Treeprocessor):
    """Images alone in a paragraph become figures; image sources become package URLs."""

    def __init__(self, md, image_url: Callable[[str], str], images: list[str]):
        super().__init__(md)
        self.image_url = image_url
        self.images = images

    def run(self, root: etree.Element) -> None:
        for parent in root.iter():
            for index, child in enumerate(list(parent)):
                if child.tag == "img":
                    self._image(parent, index, child)
        for paragraph in root.iter("p"):
            children = list(paragraph)
            if (
                len(children) == 1
                and children[0].tag == "img"
                and not (paragraph.text or "").strip()
                and not (children[0].tail or "").strip()
            ):
                self._figure(paragraph, children[0])

    def _image(self, parent: etree.Element, index: int, image: etree.Element) -> None:
        source = image.get("src", "")
        if not is_local_image(source):
            replacement = etree.Element("em")
            replacement.text = image.get("alt", "")
            replacement.tail = image.tail
            parent.remove(image)
            parent.insert(index, replacement)
            return
        self.images.append(source)
        image.set("src", self.image_url(source))
        image.set("loading", "lazy")

    @staticmethod
    def _figure(paragraph: etree.Element, image: etree.Element) -> None:
        paragraph.tag = "figure"
        caption = image.attrib.pop("title", None)
        if caption:
            figcaption = etree.SubElement(paragraph, "figcaption")
            figcaption.text = caption


class _LessonExtension(Extension):
    def __init__(self, image_url: Callable[[str], str], images: list[str]):
        super().__init__()
        self.image_url = image_url
        self.images = images

    def extendMarkdown(self, md) -> None:  # noqa: N802 (Markdown's API name)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
        md.treeprocessors.register(_FigureProcessor(md, self.image_url, self.images), "figures", 1)


def render_lesson(source: str, image_url: Callable[[str], str]) -> RenderedLesson:
    """Render lesson Markdown to sanitised HTML; ``image_url(name)`` gives image addresses."""
    images: list[str] = []
    md = markdown.Markdown(
        extensions=[
            "tables",
            "admonition",
            "toc",
            "sane_lists",
            _LessonExtension(image_url, images),
        ],
        extension_configs={
            "toc": {
                "permalink": "#",
                "permalink_title": "Link to this section",
                "toc_depth": "2-3",
            },
            "tables": {"use_align_attribute": True},
        },
        output_format="html",
    )
    body = md.convert(source)
    return RenderedLesson(sanitise(body), _flatten(md.toc_tokens), images)


def sanitise(fragment: str) -> str:
    """Keep only the allowed tags, attributes, classes and URL schemes of ``fragment``."""
    return _CLEANER.clean(fragment)


def _flatten(tokens: list[dict]) -> list[dict]:
    entries = []
    for token in tokens:
        entries.append(
            {"level": token["level"], "id": token["id"], "text": html.unescape(token["name"])}
        )
        entries.extend(_flatten(token["children"]))
    return entries


def image_references(body: str) -> list[tuple[int, str]]:
    """``(line offset in body, target)`` of each inline image in the Markdown ``body``."""
    return [
        (number, match.group(1))
        for number, line in enumerate(body.splitlines())
        for match in IMAGE_REFERENCE.finditer(line)
    ]


def admonition_types(body: str) -> list[tuple[int, str]]:
    """``(line offset in body, type)`` of each ``!!! type`` admonition in ``body``."""
    return [
        (number, match.group(1).lower())
        for number, line in enumerate(body.splitlines())
        if (match := ADMONITION_LINE.match(line))
    ]
