"""What the features hand to ``xapi.record``: a learning event in the service's own words.

Plain frozen dataclasses; ``statements.build_statement`` turns them into xAPI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

#: A language map: {"en": "Why GMP", "fr": "Pourquoi les BPF"}.
LanguageMap = Mapping[str, str]
#: An interaction component: (id, {"en": "...", "fr": "..."}).
Component = tuple[str, LanguageMap]


class StatementError(ValueError):
    """A learning event that cannot become a valid xAPI statement (a programming error)."""


@dataclass(frozen=True)
class Interaction:
    """The ``cmi.interaction`` definition of a question.

    ``type`` is an xAPI interactionType (choice, true-false, numeric, matching,
    sequencing, fill-in, ...); ``correct_responses`` are correctResponsesPattern
    strings (e.g. ``["a[,]c"]``, ``["true"]``, ``["4[:]6"]``); ``choices``, ``source``,
    ``target``, ``steps`` and ``scale`` are lists of components (id, language map).
    """

    type: str
    correct_responses: Sequence[str] = ()
    choices: Sequence[Component] = ()
    source: Sequence[Component] = ()
    target: Sequence[Component] = ()
    steps: Sequence[Component] = ()
    scale: Sequence[Component] = ()


@dataclass(frozen=True)
class Activity:
    """An activity: ``kind`` is module, lesson, assessment, question, practical or
    practical-session; its id is ``{PUBLIC_BASE_URL}/xapi/activities/{path}``."""

    kind: str
    path: str
    name: LanguageMap
    description: LanguageMap | None = None
    interaction: Interaction | None = None


@dataclass(frozen=True)
class Result:
    """The outcome of an event. ``score_scaled`` is computed from raw, min and max."""

    score_raw: float | None = None
    score_min: float | None = None
    score_max: float | None = None
    success: bool | None = None
    completion: bool | None = None
    duration_seconds: float | None = None
    response: str | None = None
    #: Keys are IRIs, or plain names placed under ``{PUBLIC_BASE_URL}/xapi/extensions/``.
    extensions: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class LearningEvent:
    """One learning event of one learner.

    ``learner`` and ``instructor`` are ``lms.auth.models.User`` objects (the builder
    reads ``public_id``, ``email`` and ``organisation.actor_mode``); ``occurred_at`` is an
    aware datetime; ``registration`` the enrolment's UUID; ``language`` the language of
    the experience (default: the request's locale, else the learner's, else English).
    """

    kind: str
    learner: Any
    activity: Activity
    occurred_at: datetime
    registration: str | None = None
    parent: Activity | None = None
    result: Result | None = None
    instructor: Any = None
    extensions: Mapping[str, Any] | None = None
    language: str | None = None
    #: Further context activities of the grouping kind (e.g. the module of a question).
    grouping: Sequence[Activity] = field(default_factory=tuple)
