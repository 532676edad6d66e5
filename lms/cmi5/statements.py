"""Pure building of the cmi5 defined statements an AU sends (cmi5 spec, section 9).

Nothing here touches the database, the request or the network. The actor is the launch
``actor`` as given, the object the launch ``activityId``, and the context the LMS's
``contextTemplate`` with what cmi5 adds: the registration, the cmi5 category (and the
moveOn category on statements whose result has success or completion), the
masteryScore extension on passed/failed judged against it.
"""

from __future__ import annotations

import copy
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ADL = "http://adlnet.gov/expapi/verbs/"
CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5"
MOVEON_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/moveon"
SESSION_ID = "https://w3id.org/xapi/cmi5/context/extensions/sessionid"
MASTERY_SCORE = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore"
#: The verbs of the cmi5 defined statements an AU sends.
VERBS: dict[str, str] = {
    name: ADL + name for name in ("initialized", "completed", "passed", "failed", "terminated")
}
#: Verbs whose statement must carry a duration (cmi5, 9.5.4.1).
NEEDS_DURATION = frozenset({"completed", "passed", "failed", "terminated"})


@dataclass(frozen=True)
class Launch:
    """What every statement of a session repeats, from the launch and ``LMS.LaunchData``."""

    actor: Mapping[str, Any]
    activity_id: str
    registration: str
    context_template: Mapping[str, Any]
    mastery_score: float | None = None
    #: The AU's name (language map) for the object's definition; optional.
    name: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """The result of a judged attempt: a scaled score, and raw/max when whole numbers."""

    scaled: float
    success: bool
    raw: float | None = None
    maximum: float | None = None


def iso_duration(seconds: float) -> str:
    """``seconds`` as an ISO 8601 duration, to the hundredth (``PT1H2M3.5S``)."""
    if seconds < 0 or math.isnan(seconds):
        raise ValueError("a duration cannot be negative")
    hundredths = round(seconds * 100)
    hours, rest = divmod(hundredths, 360_000)
    minutes, rest = divmod(rest, 6_000)
    whole, fraction = divmod(rest, 100)
    second = f"{whole}.{fraction:02d}".rstrip("0").rstrip(".") if fraction else str(whole)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if second != "0" or text == "PT":
        text += f"{second}S"
    return text


def timestamp(moment: datetime) -> str:
    """``moment`` in UTC, ISO 8601 with milliseconds and ``Z``."""
    if moment.tzinfo is None:
        raise ValueError("timestamps are aware datetimes")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _add_activity(activities: dict, kind: str, activity_id: str) -> None:
    """Append the activity to ``contextActivities[kind]`` unless it is there already."""
    present = activities.get(kind)
    items = present if isinstance(present, list) else ([present] if present else [])
    if not any(isinstance(item, Mapping) and item.get("id") == activity_id for item in items):
        items.append({"id": activity_id, "objectType": "Activity"})
    activities[kind] = items


def context(launch: Launch, *, moveon: bool, mastery: bool) -> dict[str, Any]:
    """The statement's context: the template, never overwritten, plus what cmi5 adds."""
    result = copy.deepcopy(dict(launch.context_template))
    result["registration"] = launch.registration
    activities = dict(result.get("contextActivities") or {})
    _add_activity(activities, "category", CMI5_CATEGORY)
    if moveon:
        _add_activity(activities, "category", MOVEON_CATEGORY)
    result["contextActivities"] = activities
    if mastery and launch.mastery_score is not None:
        extensions = dict(result.get("extensions") or {})
        extensions.setdefault(MASTERY_SCORE, launch.mastery_score)
        result["extensions"] = extensions
    return result


def _score(outcome: Outcome) -> dict[str, Any]:
    score: dict[str, Any] = {"scaled": round(outcome.scaled, 4)}
    raw, maximum = outcome.raw, outcome.maximum
    #: cmi5 (9.5.1): raw, min and max are integers; a fractional raw score is left out.
    if raw is not None and maximum and float(raw).is_integer() and float(maximum).is_integer():
        score.update(raw=int(raw), min=0, max=int(maximum))
    return score


def result(verb: str, *, duration: float | None, outcome: Outcome | None = None) -> dict | None:
    """The result a cmi5 defined statement of ``verb`` carries (cmi5, section 9.5)."""
    body: dict[str, Any] = {}
    if verb in ("passed", "failed"):
        if outcome is None:
            raise ValueError(f"{verb} needs the attempt's outcome")
        body["score"] = _score(outcome)
        body["success"] = verb == "passed"
    elif outcome is not None:
        raise ValueError(f"{verb} carries no score")
    if verb == "completed":
        body["completion"] = True
    if verb in NEEDS_DURATION:
        if duration is None:
            raise ValueError(f"{verb} needs a duration")
        body["duration"] = iso_duration(duration)
    elif duration is not None:
        body["duration"] = iso_duration(duration)
    return body or None


def build(
    verb: str,
    launch: Launch,
    at: datetime,
    *,
    duration: float | None = None,
    outcome: Outcome | None = None,
    statement_id: str | None = None,
) -> dict[str, Any]:
    """The cmi5 defined statement of ``verb`` (a JSON-ready dict) for the session.

    Raises ``ValueError`` for a verb cmi5 does not let an AU send, a passed/failed
    without its outcome, or a missing duration.
    """
    if verb not in VERBS:
        raise ValueError(f"{verb!r} is not a cmi5 defined AU verb")
    if verb == "passed" and outcome is not None and not outcome.success:
        raise ValueError("a passed statement needs a successful outcome")
    if verb == "failed" and outcome is not None and outcome.success:
        raise ValueError("a failed statement needs an unsuccessful outcome")
    body = result(verb, duration=duration, outcome=outcome)
    obj: dict[str, Any] = {"objectType": "Activity", "id": launch.activity_id}
    names = {lang: text for lang, text in launch.name.items() if text}
    if names:
        obj["definition"] = {"name": names}
    statement: dict[str, Any] = {
        "id": statement_id or str(uuid.uuid4()),
        "actor": copy.deepcopy(dict(launch.actor)),
        "verb": {"id": VERBS[verb], "display": {"en-US": verb}},
        "object": obj,
        "context": context(
            launch,
            moveon=body is not None and ("success" in body or "completion" in body),
            mastery=verb in ("passed", "failed"),
        ),
        "timestamp": timestamp(at),
    }
    if body is not None:
        statement["result"] = body
    return statement


def judge(scaled: float, mastery_score: float | None, passed_by_module: bool) -> bool:
    """Whether an attempt scored ``scaled`` passes: against the LMS's masteryScore when it
    gave one (cmi5, 9.3.4 and 9.3.5), else by the module's own pass mark."""
    if mastery_score is None:
        return passed_by_module
    return round(scaled, 4) >= mastery_score
