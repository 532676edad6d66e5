"""The JSON API under ``/api/v1``, for host learning platforms.

Authenticated by ``Authorization: Bearer <token>`` only: a log-in cookie never
authenticates an API call, so the blueprint is exempt from CSRF (a browser cannot send
the header cross-site). Each handler: authenticate and rate-limit (``api_view``),
load through the token's scope (``queries``: another organisation's ids are a 404),
call a service, answer JSON. ``openapi.py`` documents every route here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _

from lms.api import bookings, errors, openapi, pagination, params, queries, services
from lms.api import representations as rep
from lms.api.errors import REALM, ApiError, not_found
from lms.api.models import ApiToken
from lms.api.pagination import Keyset
from lms.auth.models import Organisation, User
from lms.catalog.models import Module
from lms.db_types import utcnow
from lms.extensions import csrf, db, limiter
from lms.practicals import wording
from lms.practicals.models import Booking, PracticalSession, PracticalType
from lms.practicals.queries import seat_counts
from lms.progress import qualifications
from lms.progress import services as progress
from lms.quiz import clock
from lms.xapi.models import Statement

bp = Blueprint("api", __name__, url_prefix="/api/v1")
errors.register(bp)

MODULE_ORDER = Keyset(((Module.id, "str"),))
TYPE_ORDER = Keyset(((PracticalType.id, "str"),))
LEARNER_ORDER = Keyset(((User.id, "int"),))
SESSION_ORDER = Keyset(((PracticalSession.starts_at, "datetime"), (PracticalSession.id, "int")))
BOOKING_ORDER = Keyset(((Booking.id, "int"),))
STATEMENT_ORDER = Keyset(
    ((Statement.occurred_at, "datetime"), (Statement.id, "int")), descending=True
)
SESSION_STATUSES = ("scheduled", "cancelled", "any")
BOOKING_STATES = ("live", "booked", "waiting", "cancelled", "any")


@bp.record_once
def _exempt_from_csrf(_state) -> None:
    csrf.exempt(bp)


# Authentication, scope and rate limit -------------------------------------------------


def _bearer_token() -> str | None:
    scheme, _space, value = request.headers.get("Authorization", "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def _authenticate() -> ApiToken:
    plain = _bearer_token()
    if plain is None:
        raise ApiError(
            401,
            "unauthorized",
            _("Send an API token in the header Authorization: Bearer <token>."),
            headers={"WWW-Authenticate": REALM},
        )
    now = utcnow()
    token = services.authenticate(plain, now)
    if token is None:
        raise ApiError(
            401,
            "invalid_token",
            _("The API token is not valid: it is unknown, revoked or expired."),
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    if services.touch(token, now):
        db.session.commit()
    return token


def _require_scope(scope: str) -> None:
    if not g.api_token.allows(scope):
        raise ApiError(
            403,
            "insufficient_scope",
            _("This token may only read; this request needs a token with write access."),
            headers={"WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'},
        )


def _rate_limit_key() -> str:
    return f"api-token:{g.api_token.id}"


#: One budget per token, shared by every route (``API_RATE_LIMIT``).
_rate_limit = limiter.shared_limit(
    lambda: current_app.config["API_RATE_LIMIT"], scope="api", key_func=_rate_limit_key
)


def api_view(scope: str = "read") -> Callable:
    """Authenticate the bearer token (401), count the call against the token's rate
    limit (429), then require ``scope`` (403)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def scoped(*args, **kwargs):
            _require_scope(scope)
            return view(*args, **kwargs)

        limited = _rate_limit(scoped)

        @wraps(view)
        def authenticated(*args, **kwargs):
            g.api_token = _authenticate()
            return limited(*args, **kwargs)

        return authenticated

    return decorator


def _page(page: pagination.Page, data: list) -> tuple:
    body, headers = pagination.envelope(page, data)
    return jsonify(body), 200, headers


def _learner_or_404(public_id: str) -> User:
    learner = queries.find_learner(g.api_token, public_id)
    if learner is None:
        raise not_found(_("No learner with this id."))
    return learner


def _session_or_404(public_id: str) -> PracticalSession:
    session = queries.find_session(g.api_token, public_id)
    if session is None:
        raise not_found(_("No session with this id."))
    return session


def _booking_or_404(session: PracticalSession, booking_id: str) -> Booking:
    held = queries.find_booking(g.api_token, session, booking_id)
    if held is None:
        raise not_found(_("No booking with this id."))
    return held


# The document -------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(openapi.document())


# Modules and practical types ------------------------------------------------------------


@bp.get("/modules")
@api_view()
def list_modules():
    page = pagination.paginate(queries.modules(), MODULE_ORDER)
    return _page(page, [rep.module(item) for item in page.items])


@bp.get("/modules/<module_id>")
@api_view()
def get_module(module_id: str):
    module = queries.find_module(module_id)
    if module is None:
        raise not_found(_("No module with this id."))
    return jsonify(rep.module(module))


@bp.get("/practical-types")
@api_view()
def list_practical_types():
    page = pagination.paginate(queries.practical_types(), TYPE_ORDER)
    return _page(page, [rep.practical_type(item) for item in page.items])


# Learners -------------------------------------------------------------------------------


@bp.get("/learners")
@api_view()
def list_learners():
    query = queries.learners(g.api_token)
    email = params.text("email")
    if email:
        query = query.where(User.email == email.lower())
    page = pagination.paginate(query, LEARNER_ORDER)
    return _page(page, [rep.learner(item) for item in page.items])


@bp.get("/learners/<learner_id>")
@api_view()
def get_learner(learner_id: str):
    return jsonify(rep.learner(_learner_or_404(learner_id)))


@bp.get("/learners/<learner_id>/progress")
@api_view()
def learner_progress(learner_id: str):
    learner = _learner_or_404(learner_id)
    now = clock.now()
    rows = progress.settled_training(learner, now)
    current = qualifications.current_qualifications(learner)
    return jsonify(rep.progress(learner, rows, current, now))


@bp.get("/learners/<learner_id>/eligibility/<practical_type_id>")
@api_view()
def learner_eligibility(learner_id: str, practical_type_id: str):
    learner = _learner_or_404(learner_id)
    practical = queries.find_practical_type(practical_type_id)
    if practical is None:
        raise not_found(_("No practical type with this id."))
    at = params.date_time("at") or utcnow()
    result = queries.eligibility(learner, practical, at)
    return jsonify(rep.eligibility(learner, practical, at, result, wording.Names.load()))


@bp.get("/learners/<learner_id>/statements")
@api_view()
def learner_statements(learner_id: str):
    query = queries.statements(_learner_or_404(learner_id))
    since = params.date_time("since")
    if since is not None:
        query = query.where(Statement.occurred_at >= since)
    page = pagination.paginate(query, STATEMENT_ORDER)
    return _page(page, [rep.statement(item) for item in page.items])


# Sessions and bookings ----------------------------------------------------------------


def _filtered_sessions() -> sa.Select:
    query = queries.sessions(g.api_token)
    practical_type = params.text("type", max_length=64)
    if practical_type:
        query = query.where(PracticalSession.type_id == practical_type)
    organisation = params.text("organisation", max_length=64)
    if organisation:
        org_id = sa.select(Organisation.id).where(Organisation.slug == organisation)
        query = query.where(PracticalSession.organisation_id.in_(org_id))
    status = params.choice("status", SESSION_STATUSES, "scheduled")
    if status != "any":
        query = query.where(PracticalSession.status == status)
    starts_from = params.date_time("from") or utcnow()
    query = query.where(PracticalSession.starts_at >= starts_from)
    starts_to = params.date_time("to")
    if starts_to is not None:
        query = query.where(PracticalSession.starts_at < starts_to)
    return query


@bp.get("/sessions")
@api_view()
def list_sessions():
    page = pagination.paginate(_filtered_sessions(), SESSION_ORDER)
    counts = seat_counts(item.id for item in page.items)
    now = utcnow()
    return _page(page, [rep.session(item, counts.get(item.id, {}), now) for item in page.items])


@bp.get("/sessions/<session_id>")
@api_view()
def get_session(session_id: str):
    session = _session_or_404(session_id)
    counts = seat_counts([session.id]).get(session.id, {})
    return jsonify(rep.session(session, counts, utcnow()))


@bp.get("/sessions/<session_id>/bookings")
@api_view()
def list_bookings(session_id: str):
    query = queries.bookings(g.api_token, _session_or_404(session_id))
    state = params.choice("state", BOOKING_STATES, "live")
    if state == "live":
        query = query.where(Booking.state != "cancelled")
    elif state != "any":
        query = query.where(Booking.state == state)
    page = pagination.paginate(query, BOOKING_ORDER)
    return _page(page, [rep.booking(item) for item in page.items])


@bp.post("/sessions/<session_id>/bookings")
@api_view("write")
def create_booking(session_id: str):
    session = _session_or_404(session_id)
    data = request.get_json(silent=True)
    learner_id = data.get("learner") if isinstance(data, dict) else None
    if not isinstance(learner_id, str):
        raise errors.bad_request(
            _('Send a JSON object naming the learner: {"learner": "<learner id>"}.'),
            field="learner",
        )
    learner = _learner_or_404(learner_id)
    try:
        made = bookings.book_for(g.api_token, session, learner, utcnow())
    except bookings.BookingRefused as refusal:
        raise _refused(refusal) from refusal
    db.session.commit()
    location = url_for(".get_booking", session_id=session_id, booking_id=made.registration)
    return jsonify(rep.booking(made)), 201, {"Location": location}


@bp.get("/sessions/<session_id>/bookings/<booking_id>")
@api_view()
def get_booking(session_id: str, booking_id: str):
    held = _booking_or_404(_session_or_404(session_id), booking_id)
    return jsonify(rep.booking(held))


@bp.delete("/sessions/<session_id>/bookings/<booking_id>")
@api_view("write")
def cancel_booking(session_id: str, booking_id: str):
    held = _booking_or_404(_session_or_404(session_id), booking_id)
    try:
        bookings.cancel_for(g.api_token, held, utcnow())
    except bookings.BookingRefused as refusal:
        raise _refused(refusal) from refusal
    db.session.commit()
    return jsonify(rep.booking(held))


def _refused(refusal: bookings.BookingRefused) -> ApiError:
    details = None
    if refusal.evaluation is not None:
        details = rep.evaluation(refusal.evaluation, wording.Names.load())
    return ApiError(
        409 if refusal.is_conflict else 422, refusal.code, str(refusal), details=details
    )
