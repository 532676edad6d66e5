"""The OpenAPI 3.1 document of the JSON API, built in code beside the routes it describes.

Served at ``/api/v1/openapi.json`` without authentication. The API's contract for the
host platforms' developers, in English like the field names (people-facing ``message``
and ``text`` values in answers follow ``Accept-Language``). Tests validate it against
the OpenAPI specification and run schemathesis against the routes with it. The
resources' schemas are in ``schemas.py``.
"""

from __future__ import annotations

from flask import current_app

from lms.api.pagination import DEFAULT_PAGE_SIZE, MAX_CURSOR_LENGTH, MAX_PAGE_SIZE
from lms.api.schemas import (
    INSTANT,
    SLUG,
    STRING,
    TEXT_PATTERN,
    UUID,
    Schema,
    ref,
    schemas,
)


def path_parameter(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def query_parameter(name: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


PAGE_PARAMETERS = [
    query_parameter(
        "limit",
        {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
        f"Items per page (at most {MAX_PAGE_SIZE}).",
    ),
    query_parameter(
        "cursor",
        {"type": "string", "maxLength": MAX_CURSOR_LENGTH},
        "The `next_cursor` of the previous page.",
    ),
]
LEARNER = path_parameter("learner_id", UUID, "The learner's id.")
SESSION = path_parameter("session_id", UUID, "The session's id.")
BOOKING = path_parameter("booking_id", UUID, "The booking's id.")


def json_content(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def error(description: str, headers: dict[str, Schema] | None = None) -> Schema:
    response: Schema = {"description": description, "content": json_content(ref("Error"))}
    if headers:
        response["headers"] = headers
    return response


RESPONSES = {
    "BadRequest": error("Invalid input: the message and `details.parameter` say which."),
    "Unauthorized": error(
        "No token, or a token that is unknown, revoked or expired.",
        {"WWW-Authenticate": {"required": True, "schema": STRING}},
    ),
    "Forbidden": error(
        "The token may only read (`insufficient_scope`).",
        {"WWW-Authenticate": {"required": True, "schema": STRING}},
    ),
    "NotFound": error("No such resource, or it belongs to another organisation."),
    "Conflict": error(
        "The state forbids it: already booked or cancelled, session cancelled, closed to "
        "booking or started."
    ),
    "Unprocessable": error(
        "The rules refuse it: the learner is not eligible (`not_eligible`, with what is "
        "missing in `details`) or may not book this session (`not_allowed`)."
    ),
    "TooManyRequests": error(
        "The token's rate limit is spent: wait the seconds `Retry-After` says.",
        {"Retry-After": {"required": True, "schema": STRING}},
    ),
}


def answers(status: int, description: str, schema: str, *errors: str, **extra) -> Schema:
    """The responses of an authenticated operation: ``status`` with ``schema``, the listed
    errors, and always 401 and 429."""
    ok: Schema = {"description": description, "content": json_content(ref(schema)), **extra}
    codes = {
        "BadRequest": "400",
        "Forbidden": "403",
        "NotFound": "404",
        "Conflict": "409",
        "Unprocessable": "422",
    }
    result: Schema = {str(status): ok}
    for name in errors:
        result[codes[name]] = {"$ref": f"#/components/responses/{name}"}
    result["401"] = {"$ref": "#/components/responses/Unauthorized"}
    result["429"] = {"$ref": "#/components/responses/TooManyRequests"}
    return dict(sorted(result.items()))


LINK = {"Link": {"required": False, "schema": STRING, "description": 'rel="next" page.'}}


def operation(
    operation_id: str, summary: str, responses: Schema, *, tag: str, parameters=(), **extra
) -> Schema:
    result: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "responses": responses,
    }
    if parameters:
        result["parameters"] = list(parameters)
    result.update(extra)
    return result


def listing(operation_id: str, summary: str, schema: str, tag: str, *parameters) -> Schema:
    """A paginated list; one under a resource's path is a 404 when the resource is."""
    errors = ["BadRequest"]
    if any(parameter["in"] == "path" for parameter in parameters):
        errors.append("NotFound")
    return operation(
        operation_id,
        summary,
        answers(200, "A page of the list.", schema, *errors, headers=LINK),
        tag=tag,
        parameters=[*parameters, *PAGE_PARAMETERS],
    )


def paths() -> dict[str, Schema]:
    return {
        "/openapi.json": {
            "get": operation(
                "getOpenApiDocument",
                "This document",
                {
                    "200": {
                        "description": "The OpenAPI document.",
                        "content": json_content(ref("Document")),
                    }
                },
                tag="documentation",
                security=[],
            )
        },
        "/modules": {
            "get": listing("listModules", "Theory modules, by id", "ModuleList", "modules")
        },
        "/modules/{module_id}": {
            "get": operation(
                "getModule",
                "A theory module",
                answers(200, "The module.", "Module", "NotFound"),
                tag="modules",
                parameters=[path_parameter("module_id", SLUG, "The module's id (a slug).")],
            )
        },
        "/practical-types": {
            "get": listing(
                "listPracticalTypes",
                "Practical types and their prerequisite rules",
                "PracticalTypeList",
                "practicals",
            )
        },
        "/learners": {
            "get": listing(
                "listLearners",
                "The organisation's learners (all for a centre token)",
                "LearnerList",
                "learners",
                query_parameter(
                    "email",
                    {"type": "string", "maxLength": 254, "pattern": TEXT_PATTERN},
                    "Only the learner with this e-mail address (any letter case).",
                ),
            )
        },
        "/learners/{learner_id}": {
            "get": operation(
                "getLearner",
                "A learner",
                answers(200, "The learner.", "Learner", "NotFound"),
                tag="learners",
                parameters=[LEARNER],
            )
        },
        "/learners/{learner_id}/progress": {
            "get": operation(
                "getLearnerProgress",
                "A learner's status, best score and qualification in each module",
                answers(200, "The learner's progress.", "Progress", "NotFound"),
                tag="learners",
                parameters=[LEARNER],
            )
        },
        "/learners/{learner_id}/eligibility/{practical_type_id}": {
            "get": operation(
                "getLearnerEligibility",
                "Whether a learner meets a practical type's prerequisites, and what is missing",
                answers(200, "The evaluation.", "Eligibility", "BadRequest", "NotFound"),
                tag="learners",
                parameters=[
                    LEARNER,
                    path_parameter("practical_type_id", SLUG, "The practical type's id."),
                    query_parameter(
                        "at",
                        INSTANT,
                        "Evaluate at this moment (default: now); a session's `starts_at` "
                        "tells whether booking it would be accepted. Years 1900 to 2999.",
                    ),
                ],
            )
        },
        "/learners/{learner_id}/statements": {
            "get": listing(
                "listLearnerStatements",
                "The xAPI statements about a learner, newest first",
                "StatementList",
                "learners",
                LEARNER,
                query_parameter("since", INSTANT, "Only statements of events at or after this."),
            )
        },
        "/sessions": {
            "get": listing(
                "listSessions",
                "Practical sessions, soonest first (by default: scheduled, from now on)",
                "SessionList",
                "practicals",
                query_parameter(
                    "type",
                    {"type": "string", "maxLength": 64, "pattern": TEXT_PATTERN},
                    "Only sessions of this practical type.",
                ),
                query_parameter(
                    "organisation",
                    {"type": "string", "maxLength": 64, "pattern": TEXT_PATTERN},
                    "Only sessions of the organisation with this slug.",
                ),
                query_parameter(
                    "status",
                    {
                        "type": "string",
                        "enum": ["scheduled", "cancelled", "any"],
                        "default": "scheduled",
                    },
                    "Session status.",
                ),
                query_parameter("from", INSTANT, "Sessions starting at or after (default: now)."),
                query_parameter("to", INSTANT, "Sessions starting before."),
            )
        },
        "/sessions/{session_id}": {
            "get": operation(
                "getSession",
                "A practical session with its seats",
                answers(200, "The session.", "Session", "NotFound"),
                tag="practicals",
                parameters=[SESSION],
            )
        },
        "/sessions/{session_id}/bookings": {
            "get": listing(
                "listBookings",
                "A session's bookings (the token's learners only, on another organisation's "
                "session)",
                "BookingList",
                "practicals",
                SESSION,
                query_parameter(
                    "state",
                    {
                        "type": "string",
                        "enum": ["live", "booked", "waiting", "cancelled", "any"],
                        "default": "live",
                    },
                    "`live`: booked or waiting.",
                ),
            ),
            "post": operation(
                "createBooking",
                "Book a learner on a session (a seat, or the waiting list when it is full)",
                answers(
                    201,
                    "Booked, or on the waiting list: see `state`.",
                    "Booking",
                    "BadRequest",
                    "Forbidden",
                    "NotFound",
                    "Conflict",
                    "Unprocessable",
                    headers={"Location": {"required": True, "schema": STRING}},
                ),
                tag="practicals",
                parameters=[SESSION],
                requestBody={"required": True, "content": json_content(ref("BookingRequest"))},
                description="Needs a token with write access. The prerequisites are checked "
                "at the session's start, waivers included.",
            ),
        },
        "/sessions/{session_id}/bookings/{booking_id}": {
            "get": operation(
                "getBooking",
                "A booking",
                answers(200, "The booking.", "Booking", "NotFound"),
                tag="practicals",
                parameters=[SESSION, BOOKING],
            ),
            "delete": operation(
                "cancelBooking",
                "Cancel a booking (its seat goes to the first on the waiting list)",
                answers(
                    200, "The cancelled booking.", "Booking", "Forbidden", "NotFound", "Conflict"
                ),
                tag="practicals",
                parameters=[SESSION, BOOKING],
                description="Needs a token with write access.",
            ),
        },
    }


def document() -> Schema:
    """The OpenAPI document of ``/api/v1``."""
    limit = current_app.config["API_RATE_LIMIT"]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{current_app.config['PLATFORM_NAME']} API",
            "version": "1.0.0",
            "description": (
                "Read modules, learners' progress, qualifications and xAPI statements; check "
                "eligibility for practicals; book and cancel sessions.\n\n"
                "Authenticate with `Authorization: Bearer <token>`: an organisation's admin "
                "creates tokens (read, or write which also reads). A token sees only its "
                "organisation's learners, sessions, bookings and statements (the centre's "
                "sees all); sessions of the centre are open to every organisation. Lists "
                f"are paginated by cursor ({DEFAULT_PAGE_SIZE} items a page by default, "
                f"at most {MAX_PAGE_SIZE}). Each token may make {limit} calls."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name} for name in ("modules", "learners", "practicals", "documentation")],
        "paths": paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "lms_..."}
            },
            "schemas": schemas(),
            "responses": RESPONSES,
        },
    }
