"""Error pages: HTML for people, JSON for API clients."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

#: Seconds a client is asked to wait when the database cannot be used.
DATABASE_RETRY_AFTER = 30


def wants_json() -> bool:
    """True when the client asked for JSON rather than a page."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (
            _("Bad request"),
            _("The request could not be understood. Please check the form and try again."),
        ),
        403: (_("Not allowed"), _("You do not have permission to open this page.")),
        404: (_("Not found"), _("There is no page at this address, or you may not see it.")),
        405: (_("Not allowed"), _("This address does not accept that kind of request.")),
        413: (_("Too large"), _("What you sent is larger than this service accepts.")),
        429: (
            _("Too many attempts"),
            _("Too many requests in a short time. Please wait a minute and try again."),
        ),
        500: (
            _("Something went wrong"),
            _("An unexpected error occurred. Nothing was saved; please try again."),
        ),
        503: (
            _("Temporarily unavailable"),
            _(
                "The service cannot use its database just now, so this action was not "
                "completed. Please try again in a minute."
            ),
        ),
    }


def render_error(code: int, detail: str | None = None, headers=None):
    title, message = _messages().get(code, (str(code), detail or ""))
    if wants_json():
        body = {"error": {"status": code, "title": title, "message": detail or message}}
        return jsonify(body), code, headers or {}
    return (
        render_template("core/error.html", code=code, title=title, message=message, detail=detail),
        code,
        headers or {},
    )


def _handle_http(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    detail = None
    if error.code == 400 and error.description and error.description != error.__class__.description:
        detail = error.description
    headers = {}
    if error.code == 429:
        detail = None
        retry = getattr(error, "retry_after", None)
        if retry:
            headers["Retry-After"] = str(retry)
    if error.code == 405:
        headers["Allow"] = ", ".join(error.valid_methods or [])
    return render_error(error.code, detail, headers)


def _handle_csrf(error: CSRFError):
    return render_error(
        400,
        _("The form has expired or was not sent from this site. Reload the page and try again."),
    )


def _handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _handle_http(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    from lms.extensions import db

    db.session.rollback()
    return render_error(500)


def _handle_database_unavailable(error: sa_exc.SQLAlchemyError):
    """503 with Retry-After when the database is down, restarting, read-only or full."""
    log.warning(
        "database unavailable on %s %s: %s",
        request.method,
        request.path,
        getattr(error, "orig", None) or error.__class__.__name__,
    )
    _roll_back()
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
    try:
        return render_error(503, headers=headers)
    except sa_exc.SQLAlchemyError:
        # The page's layout could not load the person (the database is unreachable):
        # show it as to a visitor rather than fail again.
        from lms.extensions import login_manager

        _roll_back()
        g._login_user = login_manager.anonymous_user()  # what Flask-Login reads back
        return render_error(503, headers=headers)


def _is_database_unavailable(error: sa_exc.DBAPIError) -> bool:
    return isinstance(error, sa_exc.OperationalError) or error.connection_invalidated


def _handle_database_error(error: sa_exc.DBAPIError):
    if _is_database_unavailable(error):
        return _handle_database_unavailable(error)
    return _handle_unexpected(error)


def _roll_back() -> None:
    from lms.extensions import db

    try:
        db.session.rollback()
    except sa_exc.SQLAlchemyError:
        log.warning("could not roll back the session", exc_info=True)


def _end_session(_error: BaseException | None = None) -> None:
    """End the request's session; a connection the server dropped (a database restart)
    is discarded instead of turning the finished request into a bare 500.

    Runs before Flask-SQLAlchemy's own teardown, which then finds nothing left to do.
    """
    from lms.extensions import db

    try:
        db.session.remove()
    except sa_exc.DBAPIError as error:
        log.warning("database connection lost at the end of a request: %s", error.orig)
        db.session().invalidate()  # drops the connection without a ROLLBACK
        db.session.remove()


def register(app: Flask) -> None:
    app.teardown_appcontext(_end_session)
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(sa_exc.DBAPIError, _handle_database_error)
    app.register_error_handler(sa_exc.TimeoutError, _handle_database_unavailable)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(InternalServerError, _handle_unexpected)
    app.register_error_handler(Exception, _handle_unexpected)
