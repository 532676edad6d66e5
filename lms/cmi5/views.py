"""cmi5 pages: the AU launch URL, the session page with its Exit button.

The launch is a GET from the learner's LMS (no CSRF token can come with it); it calls
the LMS (fetch URL, launch data, preferences) before writing anything, then signs the
launched learner in. Exit is a POST form with our CSRF token.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm

from lms.catalog import services as catalog
from lms.cmi5 import outbox, services, tracking
from lms.cmi5.launch import (
    LaunchError,
    origin,
    parse_launch_data,
    parse_parameters,
    preferred_language,
)
from lms.cmi5.models import Cmi5Session
from lms.cmi5.remote import LmsClient, LmsError
from lms.core.security import content_security_policy
from lms.db_types import utcnow
from lms.extensions import db

log = logging.getLogger(__name__)

bp = Blueprint("cmi5", __name__, template_folder="templates")

#: The key of the cookie session that marks a launched session (for the page bar).
SESSION_KEY = "cmi5"


class ExitForm(FlaskForm):
    """The CSRF token of the Exit button."""


def _refusal(error: LaunchError):
    return (
        render_template("cmi5/launch_error.html", message=error.message, details=error.details),
        error.status,
    )


def _lms_refusal(error: LmsError) -> LaunchError:
    log.warning("cmi5 launch: the LMS answered %s (%s)", error.kind, error.reason)
    if error.kind == "refused" and error.code == "1":
        return LaunchError(
            _(
                "This launch link has already been used or has expired. Please go back to "
                "your learning platform and start the module again."
            ),
            403,
        )
    if error.kind == "refused":
        details = [error.text] if error.text else []
        return LaunchError(_("Your learning platform refused to start this session."), 403, details)
    return LaunchError(
        _(
            "Your learning platform could not be reached or did not answer as expected. "
            "Please go back to it and start the module again in a moment."
        ),
        502,
    )


def _start(params, module, platform, digest: str) -> Cmi5Session:
    """Call the LMS (token, launch data, preferences), then record the session."""
    with LmsClient.from_config(current_app.config) as client:
        try:
            token = client.fetch_token(params.fetch)
            data = parse_launch_data(
                client.launch_data(
                    params.endpoint,
                    token,
                    actor=params.actor,
                    activity_id=params.activity_id,
                    registration=params.registration,
                )
            )
            preferences = client.learner_preferences(params.endpoint, token, actor=params.actor)
        except LmsError as error:
            raise _lms_refusal(error) from None
    return services.start_session(
        platform=platform,
        module=module,
        params=params,
        data=data,
        token=token,
        digest=digest,
        language=preferred_language(preferences, current_app.config["LANGUAGES"]),
    )


@bp.route("/cmi5/launch/<module_id>")
def launch(module_id: str):
    try:
        params = parse_parameters(request.args)
        module = catalog.find_module(module_id)
        if module is None:
            raise LaunchError(_("This module does not exist here."), 404)
        platform = services.platform_for(params)
        digest = services.fetch_digest(params.fetch)
        earlier = services.session_of_launch(digest)
        if earlier is not None:
            if current_user.is_authenticated and earlier.user_id == current_user.id:
                return redirect(url_for("cmi5.session", public_id=earlier.public_id))
            raise _lms_refusal(LmsError("refused", "launch link used before", code="1"))
        started = _start(params, module, platform, digest)
    except LaunchError as error:
        db.session.rollback()
        return _refusal(error)
    db.session.commit()
    user = started.user
    if current_user.is_authenticated and current_user.id != user.id:
        logout_user()
        cookie.clear()
    login_user(user)
    public_id = started.public_id
    cookie[SESSION_KEY] = {"session": public_id, "user": user.public_id}
    _deliver(started.id)
    return redirect(url_for("cmi5.session", public_id=public_id))


def _deliver(session_id: int, *, force: bool = False, warn: bool = True) -> outbox.Report:
    """Send the session's waiting statements now (after the commit); warn if they wait."""
    g.pop("cmi5_to_send", None)
    report = outbox.deliver(session_id, force=force)
    if warn and report.waiting:
        flash(
            _(
                "Your learning platform could not be reached. Your progress is kept here "
                "and will be sent to it automatically."
            ),
            "warning",
        )
    return report


@bp.after_app_request
def send_recorded(response):
    """Statements the quiz or the catalog queued in this request leave once it committed.

    A failure here must not turn the learner's committed work into an error page: the
    statements stay queued for ``lms cmi5 deliver`` and the next page of the session.
    """
    for session_id in sorted(g.pop("cmi5_to_send", ())):
        try:
            _deliver(session_id)
        except Exception:
            db.session.rollback()
            log.exception("cmi5 session %s: delivery after the request failed", session_id)
    return response


@bp.app_context_processor
def session_bar():
    """The launched session's id for the page bar (no query: from the cookie session)."""
    marked = cookie.get(SESSION_KEY)
    if (
        isinstance(marked, dict)
        and current_user
        and current_user.is_authenticated
        and marked.get("user") == current_user.public_id
    ):
        return {"cmi5_session_id": marked.get("session")}
    return {}


def _session_or_404(public_id: str):
    found = services.find_session(public_id, current_user)
    if found is None:
        abort(404)
    return found


def _csp_for_exit(return_url: str | None) -> str:
    """Our policy, letting the Exit form's redirect reach the LMS's return address."""
    policy = content_security_policy()
    if not return_url:
        return policy
    return policy.replace("form-action 'self'", f"form-action 'self' {origin(return_url)}")


@bp.route("/cmi5/sessions/<public_id>")
@login_required
def session(public_id: str):
    found = _session_or_404(public_id)
    if tracking.complete_if_done(found, utcnow()):
        db.session.commit()
        _deliver(found.id)
    module = catalog.find_module(found.module_id)
    if module is None:
        abort(404)
    prerequisites = catalog.prerequisites_of(current_user, module)
    enrolment = catalog.enrolment_for(current_user, module.id)
    response = current_app.make_response(
        render_template(
            "cmi5/session.html",
            cmi5=found,
            module=module,
            version=module.current_version,
            prerequisites=prerequisites,
            blocked=catalog.gate(current_user, module, enrolment, prerequisites),
            counts=outbox.counts(found.id),
            problem=outbox.last_problem(found.id),
            form=ExitForm(),
        )
    )
    response.headers["Content-Security-Policy"] = _csp_for_exit(found.return_url)
    return response


@bp.route("/cmi5/sessions/<public_id>/exit", methods=["POST"])
@login_required
def exit_session(public_id: str):
    found = _session_or_404(public_id)
    if not ExitForm().validate_on_submit():
        abort(400)
    services.terminate(found)
    db.session.commit()
    session_id, return_url = found.id, found.return_url
    report = _deliver(session_id, force=True, warn=False)
    cookie.pop(SESSION_KEY, None)
    logout_user()
    if report.ok and return_url:
        return redirect(return_url, 303)
    return render_template(
        "cmi5/exited.html", report=report, return_url=return_url, counts=outbox.counts(session_id)
    )
