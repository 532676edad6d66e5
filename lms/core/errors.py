"""Error pages: HTML for people, JSON for API clients."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)


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


def register(app: Flask) -> None:
    app.register_error_handler(CSRFError, _handle_csrf)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(InternalServerError, _handle_unexpected)
    app.register_error_handler(Exception, _handle_unexpected)
