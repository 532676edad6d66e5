"""The JSON Schemas of the API's resources (``representations.py`` builds them), for the
OpenAPI document's ``components.schemas``, and the helpers that spell them."""

from __future__ import annotations

from typing import Any

from lms.api.params import SLUG_PATTERN
from lms.practicals.models import BOOKING_STATES, SESSION_STATUSES
from lms.practicals.rules import CONDITION_KINDS
from lms.progress.rules import STATUSES

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """``schema`` or null."""
    if "type" in schema and "$ref" not in schema:
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Schema], *, description: str = "") -> Schema:
    """An object with all of ``properties`` present."""
    schema: Schema = {"type": "object", "required": list(properties), "properties": properties}
    if description:
        schema["description"] = description
    return schema


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
INSTANT = {"type": "string", "format": "date-time"}
URL = {"type": "string", "format": "uri"}
#: A text parameter: no control characters.
TEXT_PATTERN = "^[^\\x00-\\x1f\\x7f]*$"
UUID = {"type": "string", "format": "uuid"}
SLUG = {"type": "string", "pattern": SLUG_PATTERN}
SCORE = {"type": "number", "minimum": 0, "maximum": 1}
COUNT = {"type": "integer", "minimum": 0}


def list_of(name: str) -> Schema:
    return obj(
        {
            "data": {"type": "array", "items": ref(name)},
            "next_cursor": nullable(
                {"type": "string", "description": "Pass as `cursor` for the next page."}
            ),
            "links": obj({"next": nullable(URL)}),
        },
        description="A page of a list. `next_cursor` and `links.next` are null on the last page.",
    )


def schemas() -> dict[str, Schema]:
    return {
        "Error": obj(
            {
                "error": {
                    "type": "object",
                    "required": ["status", "message"],
                    "properties": {
                        "status": INTEGER,
                        "code": {
                            "type": "string",
                            "description": "Stable, for programs: `unauthorized`, "
                            "`invalid_token`, `insufficient_scope`, `not_found`, "
                            "`bad_request`, `rate_limited`, `not_eligible`, `not_allowed`, "
                            "`already_booked`, `booking_closed`, `session_cancelled`, "
                            "`already_cancelled`, `session_started`, `conflict`...",
                        },
                        "title": STRING,
                        "message": {"type": "string", "description": "For people."},
                        "details": {
                            "type": "object",
                            "description": "More about the error: the parameter at fault, "
                            "or for `not_eligible` the Evaluation (what the learner misses).",
                        },
                    },
                }
            }
        ),
        "LanguageMap": {
            "type": "object",
            "description": 'A text in each language: `{"en": ..., "fr": ...}`.',
            "additionalProperties": STRING,
        },
        "Module": obj(
            {
                "id": SLUG,
                "status": {"type": "string", "enum": ["enabled", "retired"]},
                "version": {"type": "string", "description": "The author's version label."},
                "content_hash": STRING,
                "title": ref("LanguageMap"),
                "summary": ref("LanguageMap"),
                "sector": {"type": "string", "enum": ["biopharma", "chemistry", "both"]},
                "estimated_minutes": COUNT,
                "validity_months": COUNT,
                "prerequisites": {"type": "array", "items": SLUG},
                "pass_mark": nullable(SCORE),
                "url": URL,
            }
        ),
        "ModuleList": list_of("Module"),
        "PracticalType": obj(
            {
                "id": SLUG,
                "title": ref("LanguageMap"),
                "summary": ref("LanguageMap"),
                "room_kind": STRING,
                "duration_minutes": COUNT,
                "default_capacity": COUNT,
                "prerequisites": {
                    "type": "object",
                    "description": "The prerequisite rule: an all_of/any_of tree of "
                    f"conditions ({', '.join(CONDITION_KINDS)}).",
                },
            }
        ),
        "PracticalTypeList": list_of("PracticalType"),
        "Learner": obj(
            {
                "id": UUID,
                "display_name": STRING,
                "email": STRING,
                "organisation": {"type": "string", "description": "The organisation's slug."},
                "learner_category": nullable(STRING),
                "sector": nullable(STRING),
                "active": BOOLEAN,
                "created_at": INSTANT,
            }
        ),
        "LearnerList": list_of("Learner"),
        "Person": obj({"id": UUID, "display_name": STRING}),
        "Qualification": obj(
            {
                "code": {"type": "string", "description": "The verification code."},
                "module_id": SLUG,
                "kind": {"type": "string", "enum": ["pass", "correction"]},
                "score": nullable(SCORE),
                "issued_at": INSTANT,
                "valid_until": {**INSTANT, "description": "Valid until this moment (excluded)."},
                "valid": BOOLEAN,
                "verify_url": URL,
            },
            description="The current record of a learner and module (a correction replaces "
            "the record it corrects).",
        ),
        "ModuleProgress": obj(
            {
                "module_id": SLUG,
                "title": ref("LanguageMap"),
                "status": {"type": "string", "enum": list(STATUSES)},
                "status_until": nullable(INSTANT),
                "best_score": nullable(SCORE),
                "attempts_used": COUNT,
                "attempts_left": nullable(COUNT),
                "lessons_read": COUNT,
                "lessons_total": COUNT,
                "expires_soon": BOOLEAN,
                "qualification": nullable(ref("Qualification")),
            }
        ),
        "Progress": obj(
            {
                "learner": ref("Learner"),
                "at": INSTANT,
                "modules": {"type": "array", "items": ref("ModuleProgress")},
                "qualifications": {"type": "array", "items": ref("Qualification")},
            }
        ),
        "MissingCondition": obj(
            {
                "key": nullable(STRING),
                "kind": STRING,
                "reason": {
                    "type": "string",
                    "enum": [
                        "not_passed",
                        "score_too_low",
                        "too_old",
                        "expires_before",
                        "not_signed_off",
                        "not_allowed",
                        "one_of",
                    ],
                },
                "condition": nullable({"type": "object"}),
                "detail": {"type": "object"},
                "text": {"type": "string", "description": "What is missing, in words."},
                "url": nullable(URL),
                "alternatives": {
                    "type": "array",
                    "items": {"type": "array", "items": ref("MissingCondition")},
                },
            },
            description="A condition not met; for `one_of`, each alternative lists what "
            "that branch misses.",
        ),
        "Evaluation": obj(
            {
                "eligible": BOOLEAN,
                "missing": {"type": "array", "items": ref("MissingCondition")},
                "waived": {"type": "array", "items": STRING},
            }
        ),
        "Eligibility": {
            "allOf": [
                ref("Evaluation"),
                obj({"learner": UUID, "practical_type": SLUG, "at": INSTANT}),
            ]
        },
        "Session": obj(
            {
                "id": UUID,
                "practical_type": obj({"id": SLUG, "title": ref("LanguageMap")}),
                "organisation": STRING,
                "starts_at": INSTANT,
                "ends_at": INSTANT,
                "room": STRING,
                "trainer": nullable(ref("Person")),
                "capacity": {"type": "integer", "minimum": 1},
                "seats_booked": COUNT,
                "seats_left": COUNT,
                "waiting": COUNT,
                "status": {"type": "string", "enum": list(SESSION_STATUSES)},
                "booking_closes_at": INSTANT,
                "booking_open": BOOLEAN,
            }
        ),
        "SessionList": list_of("Session"),
        "Booking": obj(
            {
                "id": UUID,
                "session": UUID,
                "learner": ref("Person"),
                "state": {"type": "string", "enum": list(BOOKING_STATES)},
                "position": INTEGER,
                "created_at": INSTANT,
                "promoted_at": nullable(INSTANT),
                "cancelled_at": nullable(INSTANT),
            },
            description="`booked`: a seat; `waiting`: on the waiting list (promoted in order "
            "when a seat frees up).",
        ),
        "BookingList": list_of("Booking"),
        "BookingRequest": {
            "type": "object",
            "required": ["learner"],
            "properties": {"learner": {**UUID, "description": "The learner's id."}},
        },
        "Statement": obj(
            {
                "id": UUID,
                "kind": STRING,
                "verb": STRING,
                "object_id": STRING,
                "occurred_at": INSTANT,
                "stored_at": INSTANT,
                "statement": {"type": "object", "description": "The xAPI statement as sent."},
            }
        ),
        "StatementList": list_of("Statement"),
        "Document": {"type": "object", "required": ["openapi", "paths"]},
    }
