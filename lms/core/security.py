"""Security headers on every response, and requests refused before any view sees them.

Pages may not be framed, except by the origins a feature lists in ``g.frame_ancestors``
for one response (LTI: the registered platform a person was launched from).
"""

from __future__ import annotations

from flask import Flask, Response, abort, current_app, g, request
from flask_babel import gettext as _

BASE_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy() -> str:
    policy = dict(BASE_CSP)
    if g.get("frame_ancestors"):
        policy["frame-ancestors"] = " ".join(["'self'", *g.frame_ancestors])
    for directive, sources in current_app.config["CSP_EXTRA"].items():
        policy[directive] = f"{policy.get(directive, '')} {sources}".strip()
    return "; ".join(f"{name} {value}" for name, value in policy.items())


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    if not g.get("frame_ancestors"):
        headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint != "static" and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store"
    return response


def refuse_nul_characters() -> None:
    """400 for a NUL character in the address, the query or a form: no text here holds
    one, and PostgreSQL refuses it in every string (the JSON API checks its own input)."""
    if request.path.startswith("/api/"):
        return
    texts = [request.path]
    for data in (request.args, request.form):
        for key, values in data.lists():
            texts += [key, *values]
    if any("\x00" in text for text in texts):
        abort(400, _("The request contains a NUL character, which this service does not accept."))


def register(app: Flask) -> None:
    app.before_request(refuse_nul_characters)
    app.after_request(add_security_headers)
