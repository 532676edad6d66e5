"""A module as a cmi5 course structure (``cmi5.xml``, cmi5 spec, section 13).

One course per module with one AU, the module itself: its ``url`` is our launch URL
under ``PUBLIC_BASE_URL``; title and description carry every language of the module.
``moveOn`` and ``masteryScore`` come from the module's quiz settings: a module with a
quiz is done when it is completed (lessons read, quiz taken) and passed at its pass
mark; one without a quiz when it is completed.

``launchMethod`` is ``OwnWindow``: our pages refuse to be framed (``X-Frame-Options:
DENY`` and ``frame-ancestors 'none'``, against clickjacking) and our session cookie is
``SameSite=Lax``, so the LMS must open the AU in a window of its own (a new one, or a
redirect of its own), never in a frame.
"""

from __future__ import annotations

import io
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from xml.etree import ElementTree as ET

NAMESPACE = "https://w3id.org/xapi/profiles/cmi5/v1/CourseStructure.xsd"
FILE_NAME = "cmi5.xml"
LAUNCH_METHOD = "OwnWindow"


def course_id(base_url: str, module_id: str) -> str:
    return f"{base_url.rstrip('/')}/cmi5/courses/{module_id}"


def au_id(base_url: str, module_id: str) -> str:
    """The AU's (publisher's) id: the module's activity id in our own statements."""
    return f"{base_url.rstrip('/')}/xapi/activities/modules/{module_id}"


def launch_url(base_url: str, module_id: str) -> str:
    return f"{base_url.rstrip('/')}/cmi5/launch/{module_id}"


def mastery_score(pass_mark: Any) -> str:
    """The pass mark (0..1) as an xs:decimal of at most 4 decimal places (``0.8``)."""
    value = Decimal(str(pass_mark)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    if not Decimal(0) <= value <= Decimal(1):
        raise ValueError(f"pass mark {pass_mark!r} is not between 0 and 1")
    text = format(value.normalize(), "f")
    return text


def move_on(quiz_settings: dict | None, has_questions: bool) -> tuple[str, str | None]:
    """``(moveOn, masteryScore)`` for a module: CompletedAndPassed at the pass mark when
    it has a quiz with one; Completed otherwise."""
    pass_mark = (quiz_settings or {}).get("pass_mark")
    if has_questions and pass_mark is not None:
        return "CompletedAndPassed", mastery_score(pass_mark)
    return "Completed", None


def _text(parent: ET.Element, tag: str, values: dict[str, str]) -> None:
    element = ET.SubElement(parent, f"{{{NAMESPACE}}}{tag}")
    for lang, text in values.items():
        if text and text.strip():
            string = ET.SubElement(element, f"{{{NAMESPACE}}}langstring", lang=lang)
            string.text = " ".join(text.split())


def course_structure(version, base_url: str) -> bytes:
    """The course structure of a ``ModuleVersion`` (UTF-8 XML with its declaration)."""
    module_id = version.module_id
    ET.register_namespace("", NAMESPACE)
    root = ET.Element(f"{{{NAMESPACE}}}courseStructure")
    course = ET.SubElement(root, f"{{{NAMESPACE}}}course", id=course_id(base_url, module_id))
    _text(course, "title", version.title)
    _text(course, "description", version.summary)
    verdict, mastery = move_on(version.quiz_settings, bool(version.questions))
    attributes = {"id": au_id(base_url, module_id), "moveOn": verdict}
    if mastery is not None:
        attributes["masteryScore"] = mastery
    attributes["launchMethod"] = LAUNCH_METHOD
    au = ET.SubElement(root, f"{{{NAMESPACE}}}au", attributes)
    _text(au, "title", version.title)
    _text(au, "description", version.summary)
    ET.SubElement(au, f"{{{NAMESPACE}}}url").text = launch_url(base_url, module_id)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def course_package(version, base_url: str) -> bytes:
    """A ZIP course package (cmi5 spec, 14.1): ``cmi5.xml`` at its root; the AU is
    served by this service, so its URL is fully qualified and no media is packed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as package:
        package.writestr(FILE_NAME, course_structure(version, base_url))
    return buffer.getvalue()
