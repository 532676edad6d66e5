"""Pure statement building: a ``LearningEvent`` in, an xAPI 1.0.3 statement (a dict) out.

The ``tincan`` classes model and serialise the statement; nothing here touches the
database, the request or the network, so every rule is tested without an app.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any
from urllib.parse import quote

import tincan

from lms.xapi import vocabulary
from lms.xapi.events import Activity, Component, Interaction, LearningEvent, Result, StatementError

#: Characters kept as they are in an activity path (RFC 3987 iunreserved and sub-delims).
_PATH_SAFE = "/-._~!$&'()*+,;=:@"


@dataclass(frozen=True)
class BuildSettings:
    """What the builder needs from the configuration."""

    base_url: str
    platform: str
    language: str = "en"

    @property
    def root(self) -> str:
        return self.base_url.rstrip("/")


def activity_id(settings: BuildSettings, path: str) -> str:
    """The IRI of the activity at ``path`` (``modules/gmp/lessons/01``)."""
    path = path.strip().strip("/")
    if not path or any(char.isspace() for char in path):
        raise StatementError(f"activity path {path!r} must be non-empty without spaces")
    return settings.root + vocabulary.ACTIVITIES_PATH + quote(path, safe=_PATH_SAFE)


def extension_key(settings: BuildSettings, key: str) -> str:
    """``key`` itself when it is an IRI, else the IRI of that name under the base URL."""
    if "://" in key or key.startswith("urn:"):
        return key
    return settings.root + vocabulary.EXTENSIONS_PATH + quote(key, safe="-._~")


def _extensions(settings: BuildSettings, values: Mapping[str, Any] | None):
    if not values:
        return None
    return tincan.Extensions({extension_key(settings, k): v for k, v in values.items()})


def _language_map(value: Mapping[str, str] | None, what: str) -> tincan.LanguageMap | None:
    if value is None:
        return None
    entries = {lang: text for lang, text in value.items() if text}
    if not entries:
        raise StatementError(f"{what} needs at least one non-empty language entry")
    return tincan.LanguageMap(entries)


def agent(settings: BuildSettings, user: Any) -> tincan.Agent:
    """The actor for ``user``: an account under the base URL, or mbox if the
    organisation chose it."""
    if getattr(user.organisation, "actor_mode", "account") == "mbox":
        return tincan.Agent(mbox="mailto:" + user.email)
    return tincan.Agent(account=tincan.AgentAccount(home_page=settings.root, name=user.public_id))


def _components(items: Sequence[Component]) -> tincan.InteractionComponentList:
    components = tincan.InteractionComponentList()
    for component_id, description in items:
        component = tincan.InteractionComponent(id=str(component_id))
        if description:
            component.description = _language_map(description, f"component {component_id}")
        components.append(component)
    return components


def _interaction(definition: tincan.ActivityDefinition, interaction: Interaction) -> None:
    if interaction.type not in vocabulary.INTERACTION_TYPES:
        raise StatementError(f"unknown interaction type {interaction.type!r}")
    allowed = vocabulary.INTERACTION_COMPONENTS.get(interaction.type, ())
    definition.interaction_type = interaction.type
    if interaction.correct_responses:
        definition.correct_responses_pattern = [str(r) for r in interaction.correct_responses]
    for name in ("choices", "source", "target", "steps", "scale"):
        items = getattr(interaction, name)
        if not items:
            continue
        if name not in allowed:
            raise StatementError(f"a {interaction.type} interaction has no {name}")
        setattr(definition, name, _components(items))


def activity(settings: BuildSettings, act: Activity) -> tincan.Activity:
    """The tincan activity for ``act``, with its definition (type, names, interaction)."""
    if act.kind not in vocabulary.ACTIVITY_TYPES:
        raise StatementError(f"unknown activity kind {act.kind!r}")
    definition = tincan.ActivityDefinition(
        type=vocabulary.ACTIVITY_TYPES[act.kind],
        name=_language_map(act.name, "activity name"),
        description=_language_map(act.description, "activity description"),
    )
    if act.kind == "question":
        if act.interaction is None:
            raise StatementError("a question activity needs its interaction")
        _interaction(definition, act.interaction)
    elif act.interaction is not None:
        raise StatementError("only question activities carry an interaction")
    return tincan.Activity(id=activity_id(settings, act.path), definition=definition)


def scaled_score(raw: float, minimum: float, maximum: float) -> float:
    """``raw`` on the scale ``minimum..maximum`` as a fraction in [0, 1]."""
    if not minimum < maximum:
        raise StatementError(f"score min {minimum} must be below max {maximum}")
    if not minimum <= raw <= maximum:
        raise StatementError(f"score raw {raw} is outside {minimum}..{maximum}")
    return round((raw - minimum) / (maximum - minimum), 6)


def _score(result: Result) -> tincan.Score | None:
    parts = (result.score_raw, result.score_min, result.score_max)
    if all(part is None for part in parts):
        return None
    if result.score_raw is None:
        raise StatementError("a score needs its raw value")
    score = tincan.Score(raw=result.score_raw)
    if result.score_min is not None or result.score_max is not None:
        if result.score_min is None or result.score_max is None:
            raise StatementError("give both score min and max, or neither")
        score.min, score.max = result.score_min, result.score_max
        score.scaled = scaled_score(result.score_raw, result.score_min, result.score_max)
    return score


def result(settings: BuildSettings, res: Result) -> tincan.Result:
    """The tincan result: score (scaled from raw/min/max), success, completion, duration."""
    out = tincan.Result(
        score=_score(res),
        success=res.success,
        completion=res.completion,
        response=res.response,
        extensions=_extensions(settings, res.extensions),
    )
    if res.duration_seconds is not None:
        if res.duration_seconds < 0:
            raise StatementError("a duration cannot be negative")
        out.duration = timedelta(seconds=round(res.duration_seconds, 2))
    return out


def _context(settings: BuildSettings, event: LearningEvent) -> tincan.Context:
    context = tincan.Context(
        platform=settings.platform,
        language=event.language or settings.language,
        extensions=_extensions(settings, event.extensions),
    )
    if event.registration:
        try:
            context.registration = uuid.UUID(str(event.registration))
        except ValueError as error:
            raise StatementError(f"registration {event.registration!r} is not a UUID") from error
    if event.instructor is not None:
        context.instructor = agent(settings, event.instructor)
    if event.parent is not None or event.grouping:
        context.context_activities = tincan.ContextActivities(
            parent=[activity(settings, event.parent)] if event.parent is not None else None,
            grouping=[activity(settings, act) for act in event.grouping] or None,
        )
    return context


def build_statement(
    event: LearningEvent, settings: BuildSettings, statement_id: str | None = None
) -> dict[str, Any]:
    """Return the xAPI 1.0.3 statement (a JSON-ready dict) for ``event``.

    ``statement_id`` is fixed by the caller (a new UUID when omitted). Raises
    ``StatementError`` when the event cannot make a valid statement.
    """
    spec = vocabulary.EVENTS.get(event.kind)
    if spec is None:
        raise StatementError(f"unknown event kind {event.kind!r}")
    if event.activity.kind not in spec.objects:
        raise StatementError(f"{event.kind} is about a {' or '.join(spec.objects)}")
    if spec.needs_instructor and event.instructor is None:
        raise StatementError(f"{event.kind} needs the instructor (the trainer)")
    if event.occurred_at.tzinfo is None:
        raise StatementError("occurred_at must be an aware datetime")
    verb = vocabulary.VERBS[spec.verb]
    statement = tincan.Statement(
        id=uuid.UUID(statement_id) if statement_id else uuid.uuid4(),
        actor=agent(settings, event.learner),
        verb=tincan.Verb(id=verb.id, display=tincan.LanguageMap(verb.display)),
        object=activity(settings, event.activity),
        result=result(settings, event.result) if event.result is not None else None,
        context=_context(settings, event),
        timestamp=event.occurred_at.astimezone(UTC),
    )
    body = statement.as_version("1.0.3")
    #: Learning record providers should not set the statement version (xAPI 1.0.3, 2.4.10).
    body.pop("version", None)
    return body
