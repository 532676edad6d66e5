"""xAPI pages: LRS endpoints and their delivery health (admins), activity feeds."""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from lms.auth import policy
from lms.auth.decorators import role_required
from lms.auth.models import User
from lms.core.forms import attach_error
from lms.extensions import db
from lms.xapi import feed, queries, services, worker
from lms.xapi.forms import ActionForm, EndpointEditForm, EndpointForm
from lms.xapi.models import LrsEndpoint, Statement, StatementDelivery

bp = Blueprint("xapi", __name__, template_folder="templates", url_prefix="/xapi")

FEED_PAGE_SIZE = 50


def _endpoint_or_404(endpoint_id: int) -> LrsEndpoint:
    endpoint = db.session.get(LrsEndpoint, endpoint_id)
    if endpoint is None or not policy.can_manage_organisation(current_user, endpoint.organisation):
        abort(404)
    return endpoint


def _action_done() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


@bp.route("/endpoints/")
@role_required("admin")
def endpoints():
    found = db.session.scalars(queries.visible_endpoints(current_user)).all()
    return render_template(
        "xapi/endpoints.html",
        endpoints=found,
        health=queries.health(e.id for e in found),
        alerts=queries.alerts(found),
    )


@bp.route("/endpoints/new", methods=["GET", "POST"])
@role_required("admin")
def new_endpoint():
    form = EndpointForm()
    orgs = db.session.scalars(policy.visible_organisations(current_user)).all()
    form.organisation.choices = [SelectChoice(org.slug, org.name) for org in orgs]
    if request.method == "GET":
        form.organisation.data = current_user.organisation.slug
        form.batch_size.data = current_app.config["XAPI_BATCH_SIZE"]
    if form.validate_on_submit():
        org = next(org for org in orgs if org.slug == form.organisation.data)
        try:
            endpoint = services.create_endpoint(
                organisation=org,
                name=form.name.data,
                url=form.url.data,
                key=form.key.data,
                secret=form.secret.data,
                xapi_version=form.xapi_version.data,
                batch_size=form.batch_size.data,
                enabled=form.enabled.data,
                by=current_user,
            )
        except services.EndpointError as error:
            attach_error(form, error)
        else:
            queued = services.backfill(endpoint, by=current_user) if form.backfill.data else 0
            db.session.commit()
            flash(_("The LRS %(name)s is registered.", name=endpoint.name), "success")
            if queued:
                flash(_("%(count)d earlier statements are queued for it.", count=queued), "info")
            return redirect(url_for("xapi.endpoint", endpoint_id=endpoint.id))
    return render_template("xapi/endpoint_form.html", form=form)


@bp.route("/endpoints/<int:endpoint_id>", methods=["GET", "POST"])
@role_required("admin")
def endpoint(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    form = EndpointEditForm(obj=endpoint)
    if request.method == "GET":
        form.key.data = form.secret.data = ""
    if form.validate_on_submit():
        changes = {name: getattr(form, name).data for name in services.EDITABLE}
        try:
            services.update_endpoint(endpoint, changes, by=current_user)
        except services.EndpointError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The LRS %(name)s is saved.", name=endpoint.name), "success")
            return redirect(url_for("xapi.endpoint", endpoint_id=endpoint.id))
    return render_template(
        "xapi/endpoint.html",
        endpoint=endpoint,
        form=form,
        action=ActionForm(),
        health=queries.health([endpoint.id])[endpoint.id],
        parked=queries.parked(endpoint),
        alerts=queries.alerts([endpoint]),
        masked_key=services.mask(endpoint.key),
    )


@bp.route("/endpoints/<int:endpoint_id>/test", methods=["POST"])
@role_required("admin")
def test_endpoint(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    _action_done()
    report = services.check_connection(endpoint)
    flash(report.message, "success" if report.ok else "error")
    return redirect(url_for("xapi.endpoint", endpoint_id=endpoint.id))


@bp.route("/endpoints/<int:endpoint_id>/resume", methods=["POST"])
@role_required("admin")
def resume_endpoint(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    _action_done()
    services.resume(endpoint, by=current_user)
    db.session.commit()
    flash(_("Delivery to %(name)s resumes.", name=endpoint.name), "success")
    return redirect(url_for("xapi.endpoint", endpoint_id=endpoint.id))


@bp.route("/endpoints/<int:endpoint_id>/resend", methods=["POST"])
@role_required("admin")
def resend_all(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    _action_done()
    count = services.resend_all(endpoint, by=current_user)
    db.session.commit()
    flash(_("%(count)d parked statements are queued again.", count=count), "success")
    return redirect(url_for("xapi.endpoint", endpoint_id=endpoint.id))


@bp.route("/endpoints/<int:endpoint_id>/backfill", methods=["POST"])
@role_required("admin")
def backfill(endpoint_id: int):
    endpoint = _endpoint_or_404(endpoint_id)
    _action_done()
    count = services.backfill(endpoint, by=current_user)
    db.session.commit()
    flash(_("%(count)d earlier statements are queued.", count=count), "success")
    return redirect(url_for("xapi.endpoint", endpoint_id=endpoint.id))


@bp.route("/deliveries/<int:delivery_id>/resend", methods=["POST"])
@role_required("admin")
def resend(delivery_id: int):
    delivery = db.session.get(StatementDelivery, delivery_id)
    if delivery is None:
        abort(404)
    endpoint = _endpoint_or_404(delivery.endpoint_id)
    _action_done()
    if services.resend(delivery, by=current_user):
        db.session.commit()
        flash(_("The statement is queued again."), "success")
    return redirect(url_for("xapi.endpoint", endpoint_id=endpoint.id))


@bp.route("/statements/<uuid:statement_id>")
@login_required
def statement(statement_id):
    found = db.session.scalar(sa.select(Statement).where(Statement.uuid == str(statement_id)))
    if found is None or not policy.can_view_user(current_user, db.session.get(User, found.user_id)):
        abort(404)
    return render_template("xapi/statement.html", statement=found, pretty=feed.pretty(found))


@bp.route("/activity")
@login_required
def my_activity():
    return _feed(current_user)


@bp.route("/activity/<public_id>")
@role_required("trainer", "admin")
def activity(public_id: str):
    learner = db.session.scalar(sa.select(User).where(User.public_id == public_id))
    if learner is None or not policy.can_view_user(current_user, learner):
        abort(404)
    return _feed(learner)


def _feed(learner: User):
    page = db.paginate(queries.feed(learner), per_page=FEED_PAGE_SIZE, error_out=False)
    entries = [feed.describe(s) for s in page.items]
    return render_template("xapi/feed.html", learner=learner, page=page, entries=entries)


#: Seconds between two looks at the delivery health for an admin's banner.
ALERT_CHECK_SECONDS = 300
EMBEDDED_CHECK_SECONDS = 30
_embedded_checked = {"at": 0.0}


@bp.before_app_request
def _before_request() -> None:
    """Warn admins about delivery trouble; start the development delivery thread."""
    if request.endpoint == "static":
        return
    _start_embedded_delivery()
    if not (current_user.is_authenticated and current_user.role == "admin"):
        return
    if (
        request.method != "GET"
        or time.time() - session.get("xapi_alert_at", 0) < ALERT_CHECK_SECONDS
    ):
        return
    session["xapi_alert_at"] = time.time()
    found = queries.alerts(db.session.scalars(queries.visible_endpoints(current_user)))
    if found and request.blueprint != "xapi":
        flash(_("Statement delivery to an LRS needs attention: see xAPI delivery."), "warning")


def _start_embedded_delivery() -> None:
    app = current_app._get_current_object()
    if app.config["ENV"] != "development" or app.testing or worker.EMBEDDED in app.extensions:
        return
    if time.time() - _embedded_checked["at"] < EMBEDDED_CHECK_SECONDS:
        return
    _embedded_checked["at"] = time.time()
    if db.session.scalar(sa.select(LrsEndpoint.id).where(LrsEndpoint.enabled.is_(True)).limit(1)):
        worker.start_embedded(app)
