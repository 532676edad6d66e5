"""Statements in plain words, for a learner's activity feed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from lms.xapi.models import Statement

#: Event kind -> what the learner did, with the activity's name.
PHRASES = {
    "module.launched": _l("Opened the module “%(name)s”"),
    "module.initialized": _l("Started the module “%(name)s”"),
    "lesson.experienced": _l("Read the lesson “%(name)s”"),
    "question.answered": _l("Answered the question “%(name)s”"),
    "attempt.passed": _l("Passed the quiz “%(name)s”"),
    "attempt.failed": _l("Did not pass the quiz “%(name)s”"),
    "module.completed": _l("Completed the module “%(name)s”"),
    "practical.registered": _l("Booked the practical session “%(name)s”"),
    "practical.cancelled": _l("Cancelled the booking of “%(name)s”"),
    "practical.attended": _l("Attended the practical session “%(name)s”"),
    "practical.passed": _l("Passed the practical “%(name)s”"),
    "practical.failed": _l("Did not pass the practical “%(name)s”"),
    "prerequisite.waived": _l("Was exempted from “%(name)s”"),
    #: Sent when a departed learner is pseudonymised (lms.privacy): the object is a
    #: statement reference, whose id alone means nothing to a reader.
    "statement.voided": _l("An earlier learning event was withdrawn from the record stores"),
}


@dataclass(frozen=True)
class FeedEntry:
    occurred_at: datetime
    text: str
    outcome: str
    statement_id: str


def localised(language_map: dict[str, str] | None, fallback: str = "") -> str:
    """The entry of ``language_map`` for the current locale, else English, else any."""
    if not language_map:
        return fallback
    language = str(get_locale() or "en")
    for tag in (language, "en", "en-US"):
        if tag in language_map:
            return language_map[tag]
    prefix = [text for tag, text in language_map.items() if tag.split("-")[0] == language]
    return (prefix or list(language_map.values()))[0]


def _outcome(result: dict) -> str:
    parts = []
    score = result.get("score") or {}
    if "scaled" in score:
        parts.append(_l("score %(percent)s %%", percent=round(score["scaled"] * 100)))
    elif "raw" in score:
        parts.append(_l("score %(raw)s", raw=score["raw"]))
    if "success" in result and "score" not in result:
        parts.append(_l("correct") if result["success"] else _l("not correct"))
    return ", ".join(str(part) for part in parts)


def describe(statement: Statement) -> FeedEntry:
    """The statement as a sentence of the learner's feed."""
    body = json.loads(statement.body)
    definition = body.get("object", {}).get("definition", {})
    name = localised(definition.get("name"), body.get("object", {}).get("id", ""))
    phrase = PHRASES.get(statement.kind)
    text = str(phrase % {"name": name}) if phrase else f"{statement.verb} {name}"
    return FeedEntry(
        statement.occurred_at, text, _outcome(body.get("result") or {}), statement.uuid
    )


def pretty(statement: Statement) -> str:
    """The statement's JSON, indented for reading."""
    return json.dumps(json.loads(statement.body), indent=2, ensure_ascii=False)
