"""The xAPI vocabulary of the service: verbs, activity types, and which event uses which.

ADL verbs, aligned with cmi5 where cmi5 has the concept (DESIGN.md, section 5).
"""

from __future__ import annotations

from dataclasses import dataclass

ADL = "http://adlnet.gov/expapi/verbs/"


@dataclass(frozen=True)
class VerbSpec:
    id: str
    #: The verb's display in the statement (a language map).
    display: dict[str, str]


VERBS: dict[str, VerbSpec] = {
    "launched": VerbSpec(ADL + "launched", {"en-US": "launched", "fr-FR": "a lancé"}),
    "initialized": VerbSpec(ADL + "initialized", {"en-US": "initialized", "fr-FR": "a initialisé"}),
    "experienced": VerbSpec(ADL + "experienced", {"en-US": "experienced", "fr-FR": "a consulté"}),
    "answered": VerbSpec(ADL + "answered", {"en-US": "answered", "fr-FR": "a répondu"}),
    "passed": VerbSpec(ADL + "passed", {"en-US": "passed", "fr-FR": "a réussi"}),
    "failed": VerbSpec(ADL + "failed", {"en-US": "failed", "fr-FR": "a échoué"}),
    "completed": VerbSpec(ADL + "completed", {"en-US": "completed", "fr-FR": "a terminé"}),
    "registered": VerbSpec(ADL + "registered", {"en-US": "registered", "fr-FR": "s'est inscrit"}),
    "cancelled": VerbSpec(
        "http://activitystrea.ms/schema/1.0/cancel", {"en-US": "cancelled", "fr-FR": "a annulé"}
    ),
    "attended": VerbSpec(ADL + "attended", {"en-US": "attended", "fr-FR": "a participé"}),
    "waived": VerbSpec(
        "https://w3id.org/xapi/adl/verbs/waived", {"en-US": "waived", "fr-FR": "a été dispensé"}
    ),
}

#: Activity kind -> xAPI activity type.
ACTIVITY_TYPES: dict[str, str] = {
    "module": "http://adlnet.gov/expapi/activities/module",
    "lesson": "http://adlnet.gov/expapi/activities/lesson",
    "assessment": "http://adlnet.gov/expapi/activities/assessment",
    "question": "http://adlnet.gov/expapi/activities/cmi.interaction",
    "practical": "http://adlnet.gov/expapi/activities/performance",
    "practical-session": "http://activitystrea.ms/schema/1.0/event",
}


@dataclass(frozen=True)
class EventSpec:
    verb: str
    #: The activity kinds the event may have as its object.
    objects: tuple[str, ...]
    #: Whether ``context.instructor`` (the trainer) is required.
    needs_instructor: bool = False


PRACTICAL_OBJECTS = ("practical-session", "practical")

#: Event kind (what the features record) -> how it becomes a statement.
EVENTS: dict[str, EventSpec] = {
    "module.launched": EventSpec("launched", ("module",)),
    "module.initialized": EventSpec("initialized", ("module",)),
    "lesson.experienced": EventSpec("experienced", ("lesson",)),
    "question.answered": EventSpec("answered", ("question",)),
    "attempt.passed": EventSpec("passed", ("assessment",)),
    "attempt.failed": EventSpec("failed", ("assessment",)),
    "module.completed": EventSpec("completed", ("module",)),
    "practical.registered": EventSpec("registered", PRACTICAL_OBJECTS),
    "practical.cancelled": EventSpec("cancelled", PRACTICAL_OBJECTS),
    "practical.attended": EventSpec("attended", PRACTICAL_OBJECTS, needs_instructor=True),
    "practical.passed": EventSpec("passed", PRACTICAL_OBJECTS, needs_instructor=True),
    "practical.failed": EventSpec("failed", PRACTICAL_OBJECTS, needs_instructor=True),
    "prerequisite.waived": EventSpec("waived", ("module", "practical", "practical-session")),
}

EVENT_KINDS = tuple(EVENTS)

#: xAPI 1.0.3 interaction types (``cmi.interaction`` activities).
INTERACTION_TYPES = (
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
)

#: Which component lists an interaction type may carry (xAPI 1.0.3, section 2.4.4.1).
INTERACTION_COMPONENTS: dict[str, tuple[str, ...]] = {
    "choice": ("choices",),
    "sequencing": ("choices",),
    "likert": ("scale",),
    "matching": ("source", "target"),
    "performance": ("steps",),
}

#: Path under the base URL of extension keys given as plain names.
EXTENSIONS_PATH = "/xapi/extensions/"
ACTIVITIES_PATH = "/xapi/activities/"
