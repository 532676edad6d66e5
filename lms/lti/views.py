"""The LTI 1.3 tool's endpoints: login initiation, launch, our JWKS, deep linking.

The login initiation and the launch are cross-site requests signed by the platform
(the id token), not forms of ours: they are exempt from our CSRF check, which relies
on the session cookie a cross-site POST does not carry. The deep-linking choice is
posted from the platform's frame, where our session cookie is not sent either: its
single-use token in the URL protects it instead.

Frames: launch pages (the choice of module, "continue in a new window", refusals) may
be framed by the launching platform's origins. After a launch inside a frame of the
same site (platform and service under one registrable domain, where our Lax session
cookie works), the whole session may be framed by that platform. A cross-site frame
cannot keep our Lax session, so the learner continues in a window of their own.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_login import login_user

from lms.core import security
from lms.extensions import csrf, db, limiter
from lms.lti import deep_linking, keys, launches, nonces, tokens
from lms.lti.errors import LaunchRefused
from lms.lti.forms import ModuleChoiceForm
from lms.lti.models import origin_of
from lms.lti.tool import DbToolConf, ToolOIDCLogin, launch_url
from lms.lti.validation import ToolMessageLaunch

log = logging.getLogger(__name__)

bp = Blueprint(
    "lti",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/lti-static",
)

#: Launch requests allowed per client address (a classroom launching at once shares one).
LAUNCH_LIMIT = "300 per minute"
#: Session key: origins that may frame this browser session (a same-site framed launch).
FRAME_ORIGINS = "lti_frame_origins"


@bp.before_app_request
def _frame_policy() -> None:
    origins = session.get(FRAME_ORIGINS)
    if origins:
        g.frame_ancestors = list(origins)


def _language() -> str:
    return str(get_locale() or "en")


def _refused(refusal: LaunchRefused, claimed_issuer: str | None):
    """Undo the request's writes, audit the refusal, and say why in a page."""
    db.session.rollback()
    platform = refusal.platform
    origins = platform.frame_origins if platform is not None else []
    log.info("LTI refused (%s): %s", refusal.reason, refusal.detail)
    launches.record_refusal(refusal, claimed_issuer if isinstance(claimed_issuer, str) else None)
    db.session.commit()
    g.frame_ancestors = origins or None
    page = render_template("lti/refused.html", refusal=refusal)
    return page, refusal.status


@bp.route("/lti/login", methods=["GET", "POST"])
@csrf.exempt
@limiter.limit(LAUNCH_LIMIT)
def login():
    """OIDC third-party initiated login: redirect to the platform with state and nonce."""
    oidc = ToolOIDCLogin(DbToolConf())
    try:
        response = oidc.redirect(launch_url())
    except LaunchRefused as refusal:
        return _refused(refusal, request.values.get("iss"))
    nonces.purge()
    tokens.purge()
    db.session.commit()
    return response


@bp.route("/lti/launch", methods=["POST"])
@csrf.exempt
@limiter.limit(LAUNCH_LIMIT)
def launch():
    """The platform's POST of the id token: validate, then lead to the module or the
    choice of module."""
    message = ToolMessageLaunch(DbToolConf())
    try:
        message.validate()
        if message.is_deep_link_launch():
            token = launches.accept_deep_linking(message)
            db.session.commit()
            response = redirect(url_for("lti.choose_module", token=token), 303)
        else:
            response = _land(message, launches.accept_resource_launch(message))
    except LaunchRefused as refusal:
        return _refused(refusal, message.claimed_issuer)
    message.cookies.update_response(response)
    return response


def _land(message: ToolMessageLaunch, landing: launches.Landing):
    platform = message.platform
    framed = request.headers.get("Sec-Fetch-Dest") == "iframe"
    if framed and request.headers.get("Sec-Fetch-Site") == "cross-site":
        token = tokens.issue_token(
            "continue", platform, {"module_id": landing.module.id}, user=landing.user
        )
        db.session.commit()
        g.frame_ancestors = platform.frame_origins
        page = render_template(
            "lti/continue.html", token=token, module=landing.module, language=_language()
        )
        return make_response(page)
    origins = platform.frame_origins
    db.session.commit()
    login_user(landing.user)
    if framed:
        session[FRAME_ORIGINS] = origins
    else:
        session.pop(FRAME_ORIGINS, None)
    return redirect(url_for("catalog.module", module_id=landing.module.id))


@bp.route("/lti/continue/<token>")
@limiter.limit(LAUNCH_LIMIT)
def continue_launch(token: str):
    """Open the launched module in a window of its own (after a cross-site framed launch)."""
    try:
        user, module_id = launches.open_continuation(token)
    except LaunchRefused as refusal:
        return _refused(refusal, None)
    db.session.commit()
    login_user(user)
    session.pop(FRAME_ORIGINS, None)
    return redirect(url_for("catalog.module", module_id=module_id))


def _choice_page(token: str, row, form: ModuleChoiceForm, status: int = 200):
    modules = deep_linking.choosable_modules()
    g.frame_ancestors = row.platform.frame_origins
    page = render_template(
        "lti/choose_module.html",
        token=token,
        form=form,
        modules=modules,
        context_title=row.payload.get("context_title"),
        language=_language(),
    )
    return page, status


@bp.route("/lti/deep-link/<token>")
@limiter.limit(LAUNCH_LIMIT)
def choose_module(token: str):
    """The teacher's choice of module for their course (deep linking)."""
    try:
        row = tokens.find_token("deep_link", token)
    except LaunchRefused as refusal:
        return _refused(refusal, None)
    return _choice_page(token, row, ModuleChoiceForm(formdata=None))


@bp.route("/lti/deep-link/<token>", methods=["POST"])
@csrf.exempt
@limiter.limit(LAUNCH_LIMIT)
def return_module(token: str):
    """Send the chosen module back to the platform: a form posting our signed
    ``LtiDeepLinkingResponse`` (submitted by script, or by the person's click)."""
    try:
        row = tokens.find_token("deep_link", token)
    except LaunchRefused as refusal:
        return _refused(refusal, None)
    form = ModuleChoiceForm()
    modules = {module.id: module for module in deep_linking.choosable_modules()}
    form.module.choices = list(modules)
    if not form.validate_on_submit():
        return _choice_page(token, row, form, 400)
    try:
        signed, return_url = deep_linking.deep_link_response(
            row, modules[form.module.data], _language()
        )
    except LaunchRefused as refusal:
        return _refused(refusal, None)
    g.frame_ancestors = row.platform.frame_origins
    db.session.commit()
    response = make_response(
        render_template("lti/deep_link_return.html", jwt=signed, return_url=return_url)
    )
    policy = security.content_security_policy()
    response.headers["Content-Security-Policy"] = policy.replace(
        "form-action 'self'", f"form-action 'self' {origin_of(return_url)}"
    )
    return response


@bp.route("/.well-known/jwks.json")
@bp.route("/lti/jwks.json")
def jwks():
    """Our public keys: the current one and those retired within their grace."""
    response = jsonify(keys.jwks())
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
