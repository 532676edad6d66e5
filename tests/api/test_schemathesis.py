"""Schemathesis over the OpenAPI document: generated requests, valid and invalid, never
get a server error nor an answer that breaks the document.

Each generated request is sent as generated (random ids: mostly 404s) and again with its
path's ids, and the learner it books, replaced by real ones of the token's organisation
(real answers: modules, progress, eligibility, sessions, bookings made, refused and
cancelled), with a write token of Acme. A small, fixed budget of
examples per operation keeps it well under a minute on each database.
"""

from __future__ import annotations

import contextvars

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode, checks

from lms.api import openapi
from tests.api.conftest import GATED_TYPE

#: Generated requests per operation and mode (each sent twice when it has path ids).
EXAMPLES = 10

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture()
def fuzz_world(app, db, people, loaded, practical_types, make_session, make_token, qualify):
    """Acme's write token, a qualified learner, sessions of Acme and of the centre, one
    booking, statements; and the real ids to put into generated paths."""
    from lms.api import bookings

    qualify(people["learner"], score=0.95)
    qualify(people["second_learner"], score=0.85)
    session = make_session(people["acme"], capacity=1)
    make_session(people["centre"], type_id="open-practical")
    token, plain = make_token(people["acme"], scope="write")
    held = bookings.book_for(token, session, people["learner"], session.created_at)
    db.session.commit()
    app.config["API_RATE_LIMIT"] = "100000 per minute"
    known = {
        "learner_id": people["learner"].public_id,
        "session_id": session.public_id,
        "booking_id": held.registration,
        "module_id": "alpha",
        "practical_type_id": GATED_TYPE,
        "learner": people["second_learner"].public_id,
    }
    yield {"token": plain, "known": known}
    app.config["API_RATE_LIMIT"] = "600 per minute"


#: (method, path, whether it takes input that can be made invalid).
OPERATIONS = sorted(
    (method.upper(), path, bool(spec.get("parameters") or spec.get("requestBody")))
    for path, operations in openapi.paths().items()
    for method, spec in operations.items()
)
#: A request whose ids were replaced by real ones is no longer the invalid one generated.
CHECKS_WITH_REAL_IDS = [check for check in CHECKS if check is not checks.negative_data_rejection]


def _send(case, token, checks_to_run):
    """Call the app in a fresh context (no ``g`` shared with the test's app context)."""
    headers = {"Authorization": f"Bearer {token}"}
    return contextvars.Context().run(case.call_and_validate, headers=headers, checks=checks_to_run)


def _fuzz(operation, mode, token, known) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def generated(case):
        _send(case, token, CHECKS)
        if case.path_parameters:
            case.path_parameters = {
                name: known.get(name, value) for name, value in case.path_parameters.items()
            }
            if isinstance(case.body, dict):
                case.body = {**case.body, "learner": known["learner"]}
            _send(case, token, CHECKS_WITH_REAL_IDS)

    generated()


def test_the_api_honours_its_document(app, fuzz_world):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    for method, path, takes_input in OPERATIONS:
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if takes_input else [])
        for mode in modes:
            _fuzz(schema[path][method], mode, fuzz_world["token"], fuzz_world["known"])
