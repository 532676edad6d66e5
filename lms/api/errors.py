"""Errors of the JSON API: ``{"error": {"status", "code", "message", "details"?}}``.

Handlers raise ``ApiError``; the blueprint turns it, and every HTTP error raised while
serving the API, into that body with the right status and headers.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

from flask import Blueprint, Response, jsonify
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from lms.extensions import db, limiter

log = logging.getLogger(__name__)

#: Machine-readable codes of the statuses the API answers with.
STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    500: "server_error",
}
REALM = 'Bearer realm="lms-api"'


class ApiError(Exception):
    """An error answer: ``status``, a stable ``code``, a message for people, and
    optional ``details`` (a JSON object) and response headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = str(message)
        self.details = details
        self.headers = headers or {}


def bad_request(message: str, **details: Any) -> ApiError:
    return ApiError(400, "bad_request", message, details=details or None)


def not_found(message: str | None = None) -> ApiError:
    return ApiError(404, "not_found", message or _("There is nothing at this address."))


def error_response(error: ApiError) -> Response:
    body: dict[str, Any] = {"status": error.status, "code": error.code, "message": error.message}
    if error.details:
        body["details"] = error.details
    response = jsonify({"error": body})
    response.status_code = error.status
    for name, value in error.headers.items():
        response.headers[name] = value
    return response


def _retry_after() -> str:
    current = limiter.current_limit
    seconds = current.reset_at - time.time() if current is not None else 60
    return str(max(1, math.ceil(seconds)))


def _from_http(error: HTTPException) -> ApiError:
    status = error.code or 500
    headers: dict[str, str] = {}
    if status == 429:
        message = _("Too many requests with this token. Wait and try again.")
        headers["Retry-After"] = _retry_after()
    elif status == 405:
        message = _("This address does not accept that kind of request.")
        headers["Allow"] = ", ".join(getattr(error, "valid_methods", None) or [])
    elif status == 413:
        message = _("What you sent is larger than this service accepts.")
    elif status == 404:
        message = _("There is nothing at this address.")
    else:
        message = error.description or error.name
    return ApiError(status, STATUS_CODES.get(status, "error"), message, headers=headers)


def _handle_api_error(error: ApiError) -> Response:
    if error.status >= 400:
        db.session.rollback()
    return error_response(error)


def _handle_http(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    db.session.rollback()
    return error_response(_from_http(error))


def _handle_unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _handle_http(error)
    log.exception("unhandled error in the API")
    db.session.rollback()
    return error_response(
        ApiError(500, "server_error", _("An unexpected error occurred. Nothing was saved."))
    )


def register(bp: Blueprint) -> None:
    bp.register_error_handler(ApiError, _handle_api_error)
    bp.register_error_handler(HTTPException, _handle_http)
    bp.register_error_handler(Exception, _handle_unexpected)
