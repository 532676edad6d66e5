"""A check of statements against the xAPI 1.0.3 rules the service relies on.

``problems(statement)`` returns what is wrong, in plain words, or an empty list. It
covers the parts our statements use: ids, the actor's single identifier, IRIs, language
maps, scores, durations, timestamps, interactions and context.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from lms.xapi import vocabulary

_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_LANGUAGE_TAG = re.compile(r"^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$")
_DURATION = re.compile(
    r"^P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+[DW])?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$"
)
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")


def _is_uuid(value: Any) -> bool:
    try:
        return str(uuid.UUID(str(value))) == str(value).lower()
    except ValueError:
        return False


def is_iri(value: Any) -> bool:
    return isinstance(value, str) and bool(_IRI.match(value))


def _language_map(value: Any, path: str, out: list[str]) -> None:
    if not isinstance(value, dict) or not value:
        out.append(f"{path} must be a non-empty language map")
        return
    for tag, text in value.items():
        if not _LANGUAGE_TAG.match(tag):
            out.append(f"{path}: {tag!r} is not a language tag")
        if not isinstance(text, str):
            out.append(f"{path}.{tag} must be a string")


def _agent(value: Any, path: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"{path} must be an object")
        return
    ifis = [key for key in _IFIS if key in value]
    if len(ifis) != 1:
        out.append(f"{path} must have exactly one identifier, not {ifis}")
        return
    if "mbox" in value and not str(value["mbox"]).startswith("mailto:"):
        out.append(f"{path}.mbox must be a mailto: IRI")
    if "account" in value:
        account = value["account"]
        if not is_iri(account.get("homePage")) or not account.get("name"):
            out.append(f"{path}.account needs an IRL homePage and a name")


def _activity(value: Any, path: str, out: list[str]) -> None:
    if not isinstance(value, dict) or not is_iri(value.get("id")):
        out.append(f"{path}.id must be an IRI")
        return
    if value.get("objectType", "Activity") != "Activity":
        out.append(f"{path}.objectType must be Activity")
    definition = value.get("definition") or {}
    for key in ("name", "description"):
        if key in definition:
            _language_map(definition[key], f"{path}.definition.{key}", out)
    if "type" in definition and not is_iri(definition["type"]):
        out.append(f"{path}.definition.type must be an IRI")
    _interaction(definition, f"{path}.definition", out)


def _interaction(definition: dict, path: str, out: list[str]) -> None:
    kind = definition.get("interactionType")
    if kind is None:
        if any(key in definition for key in ("correctResponsesPattern", *_COMPONENT_LISTS)):
            out.append(f"{path} has interaction parts but no interactionType")
        return
    if kind not in vocabulary.INTERACTION_TYPES:
        out.append(f"{path}.interactionType {kind!r} is unknown")
    pattern = definition.get("correctResponsesPattern", [])
    if not isinstance(pattern, list) or not all(isinstance(p, str) for p in pattern):
        out.append(f"{path}.correctResponsesPattern must be a list of strings")
    allowed = vocabulary.INTERACTION_COMPONENTS.get(kind, ())
    for name in _COMPONENT_LISTS:
        if name not in definition:
            continue
        if name not in allowed:
            out.append(f"{path}.{name} is not allowed for {kind}")
        ids = [item.get("id") for item in definition[name]]
        if len(set(ids)) != len(ids) or not all(ids):
            out.append(f"{path}.{name} ids must be unique and non-empty")
        for index, item in enumerate(definition[name]):
            if "description" in item:
                _language_map(item["description"], f"{path}.{name}[{index}].description", out)


def _score(score: dict, out: list[str]) -> None:
    scaled, raw = score.get("scaled"), score.get("raw")
    low, high = score.get("min"), score.get("max")
    if scaled is not None and not -1 <= scaled <= 1:
        out.append("result.score.scaled must be within [-1, 1]")
    if low is not None and high is not None and not low < high:
        out.append("result.score.min must be below max")
    if raw is not None:
        if (low is not None and raw < low) or (high is not None and raw > high):
            out.append("result.score.raw must be within min..max")
        if scaled is not None and low is not None and high is not None and high > low:
            expected = (raw - low) / (high - low)
            if abs(expected - scaled) > 1e-4:
                out.append("result.score.scaled disagrees with raw/min/max")


def _result(value: dict, out: list[str]) -> None:
    if "score" in value:
        _score(value["score"], out)
    duration = value.get("duration")
    if duration is not None and not _DURATION.match(duration):
        out.append(f"result.duration {duration!r} is not an ISO 8601 duration")
    for key in ("success", "completion"):
        if key in value and not isinstance(value[key], bool):
            out.append(f"result.{key} must be true or false")
    _extensions(value.get("extensions"), "result.extensions", out)


def _extensions(value: Any, path: str, out: list[str]) -> None:
    for key in value or {}:
        if not is_iri(key):
            out.append(f"{path}: key {key!r} is not an IRI")


def _context(value: dict, out: list[str]) -> None:
    if "registration" in value and not _is_uuid(value["registration"]):
        out.append("context.registration must be a UUID")
    if "instructor" in value:
        _agent(value["instructor"], "context.instructor", out)
    if "language" in value and not _LANGUAGE_TAG.match(value["language"]):
        out.append("context.language must be a language tag")
    for kind, items in (value.get("contextActivities") or {}).items():
        if kind not in ("parent", "grouping", "category", "other"):
            out.append(f"context.contextActivities.{kind} is not allowed")
        for index, item in enumerate(items if isinstance(items, list) else [items]):
            _activity(item, f"context.contextActivities.{kind}[{index}]", out)
    _extensions(value.get("extensions"), "context.extensions", out)


def _timestamp(value: Any, out: list[str]) -> None:
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        out.append(f"timestamp {value!r} is not an ISO 8601 date-time with a time zone")
        return
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        out.append(f"timestamp {value!r} is not a valid date-time")


def problems(statement: dict[str, Any]) -> list[str]:
    """Every way ``statement`` breaks the xAPI 1.0.3 rules checked here; [] when valid."""
    out: list[str] = []
    if not _is_uuid(statement.get("id")):
        out.append("id must be a UUID")
    _agent(statement.get("actor"), "actor", out)
    verb = statement.get("verb") or {}
    if not is_iri(verb.get("id")):
        out.append("verb.id must be an IRI")
    if "display" in verb:
        _language_map(verb["display"], "verb.display", out)
    _activity(statement.get("object"), "object", out)
    if "result" in statement:
        _result(statement["result"], out)
    if "context" in statement:
        _context(statement["context"], out)
    _timestamp(statement.get("timestamp"), out)
    return out
