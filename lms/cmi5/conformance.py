"""The cmi5 rules for the statements an AU sends, as checks that say what is wrong.

``problems(statement, launch)`` checks one cmi5 defined statement against the launch it
belongs to (cmi5 spec, sections 9.2 to 9.7); ``sequence_problems(statements)`` checks
the order rules of a session and of a registration (section 9.3). Both return plain
sentences, or an empty list. The outbox refuses a statement with problems.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from lms.cmi5.statements import (
    CMI5_CATEGORY,
    MASTERY_SCORE,
    MOVEON_CATEGORY,
    NEEDS_DURATION,
    SESSION_ID,
    VERBS,
    Launch,
)

_VERB_NAMES = {iri: name for name, iri in VERBS.items()}


def verb_name(statement: Mapping[str, Any]) -> str | None:
    """The cmi5 verb of ``statement`` (``passed``), or None for another verb."""
    return _VERB_NAMES.get((statement.get("verb") or {}).get("id"))


def _category_ids(context: Mapping[str, Any]) -> list[str]:
    items = (context.get("contextActivities") or {}).get("category") or []
    items = items if isinstance(items, list) else [items]
    return [item.get("id") for item in items if isinstance(item, Mapping)]


def _keeps_template(template: Any, value: Any, path: str, out: list[str]) -> None:
    """Every value of the context template is in the context, unchanged."""
    if isinstance(template, Mapping):
        if not isinstance(value, Mapping):
            out.append(f"context{path} must keep the template's object")
            return
        for key, inner in template.items():
            _keeps_template(inner, value.get(key), f"{path}.{key}", out)
    elif isinstance(template, list):
        if not isinstance(value, list) or any(item not in value for item in template):
            out.append(f"context{path} must keep every item of the template")
    elif template != value:
        out.append(f"context{path} must keep the template's value {template!r}")


def _result_problems(verb: str, result: Mapping[str, Any], launch: Launch, out: list[str]):
    if "score" in result and verb not in ("passed", "failed"):
        out.append(f"{verb} must not carry a score")
    if verb in ("passed", "failed"):
        if result.get("success") is not (verb == "passed"):
            out.append(f"{verb} must have result.success {verb == 'passed'}")
        scaled = (result.get("score") or {}).get("scaled")
        if scaled is not None and launch.mastery_score is not None:
            if verb == "passed" and scaled < launch.mastery_score:
                out.append("passed with a scaled score below the masteryScore")
            if verb == "failed" and scaled >= launch.mastery_score:
                out.append("failed with a scaled score at or above the masteryScore")
        for part in ("raw", "min", "max"):
            number = (result.get("score") or {}).get(part)
            if number is not None and not float(number).is_integer():
                out.append(f"result.score.{part} must be an integer")
    elif "success" in result:
        out.append(f"{verb} must not carry result.success")
    if verb == "completed":
        if result.get("completion") is not True:
            out.append("completed must have result.completion true")
    elif "completion" in result:
        out.append(f"{verb} must not carry result.completion")
    if verb in NEEDS_DURATION and not result.get("duration"):
        out.append(f"{verb} must carry result.duration")


def problems(statement: Mapping[str, Any], launch: Launch) -> list[str]:
    """How ``statement`` breaks the cmi5 rules for a defined statement of ``launch``."""
    out: list[str] = []
    verb = verb_name(statement)
    if verb is None:
        return ["the verb is not one of the cmi5 defined AU verbs"]
    actor = statement.get("actor") or {}
    if actor != dict(launch.actor):
        out.append("the actor must be the launch actor, unchanged")
    if actor.get("objectType", "Agent") != "Agent" or "account" not in actor:
        out.append("the actor must be an Agent with an account")
    if (statement.get("object") or {}).get("id") != launch.activity_id:
        out.append("the object id must be the launch activityId")
    context = statement.get("context") or {}
    if context.get("registration") != launch.registration:
        out.append("context.registration must be the launch registration")
    _keeps_template(launch.context_template, context, "", out)
    if not (context.get("extensions") or {}).get(SESSION_ID):
        out.append("context.extensions must carry the session id")
    categories = _category_ids(context)
    if CMI5_CATEGORY not in categories:
        out.append("context must carry the cmi5 category")
    result = statement.get("result") or {}
    wants_moveon = "success" in result or "completion" in result
    if wants_moveon != (MOVEON_CATEGORY in categories):
        out.append("the moveon category belongs exactly on statements with success or completion")
    mastery = (context.get("extensions") or {}).get(MASTERY_SCORE)
    if verb in ("passed", "failed") and launch.mastery_score not in (None, mastery):
        out.append(f"{verb} must carry the masteryScore extension")
    _result_problems(verb, result, launch, out)
    if not statement.get("timestamp"):
        out.append("every statement carries a timestamp")
    return out


def _moment(statement: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(statement["timestamp"]).replace("Z", "+00:00"))


def sequence_problems(statements: Iterable[Mapping[str, Any]]) -> list[str]:
    """Order rules over statements (any sessions, any registrations), by timestamp.

    In a session: initialized first, terminated last, no verb twice, one of passed or
    failed at most. In a registration (per AU): one completed, one passed, no failed
    after a passed. Only cmi5 defined statements count.
    """
    out: list[str] = []
    sessions: dict[str, list] = defaultdict(list)
    registrations: dict[tuple, list] = defaultdict(list)
    for index, statement in enumerate(statements):
        verb = verb_name(statement)
        if verb is None:
            continue
        context = statement.get("context") or {}
        entry = (_moment(statement), index, verb)
        sessions[str((context.get("extensions") or {}).get(SESSION_ID))].append(entry)
        key = (context.get("registration"), (statement.get("object") or {}).get("id"))
        registrations[key].append(entry)
    for session_id, entries in sessions.items():
        verbs = [verb for _at, _i, verb in sorted(entries)]
        if verbs[0] != "initialized":
            out.append(f"session {session_id}: initialized is not first ({verbs})")
        if "terminated" in verbs and verbs[-1] != "terminated":
            out.append(f"session {session_id}: terminated is not last ({verbs})")
        if len(set(verbs)) != len(verbs):
            out.append(f"session {session_id}: a verb is repeated ({verbs})")
        if "passed" in verbs and "failed" in verbs:
            out.append(f"session {session_id}: both passed and failed ({verbs})")
    for (registration, _au), entries in registrations.items():
        verbs = [verb for _at, _i, verb in sorted(entries)]
        if verbs.count("completed") > 1 or verbs.count("passed") > 1:
            out.append(f"registration {registration}: completed or passed twice ({verbs})")
        if "passed" in verbs and "failed" in verbs[verbs.index("passed") :]:
            out.append(f"registration {registration}: failed after passed ({verbs})")
    return out
