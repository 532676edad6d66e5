"""Trainer dashboards: thin handlers over ``matrix``, ``history``, ``expiring``,
``cohorts`` and ``exports``."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.auth import labels as account_labels
from lms.auth.decorators import role_required
from lms.auth.models import Organisation
from lms.dashboard import charts, cohorts, expiring, exports, history, labels, matrix, scope
from lms.dashboard.cells import CELL_STATUSES
from lms.dashboard.csvexport import content_disposition
from lms.dashboard.forms import AddMemberForm, CohortForm, MemberActionForm, RenameForm
from lms.extensions import db
from lms.quiz import clock

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix="/dashboard",
    template_folder="templates",
    static_folder="static",
    static_url_path="/dashboard-static",
)
staff_only = role_required("trainer", "admin")


@bp.app_context_processor
def dashboard_globals():
    return {"dashboard_labels": labels}


# Globals rather than context, so that macros imported without context can draw charts.
bp.add_app_template_global(charts.svg, "chart_svg")
bp.add_app_template_global(charts.fill, "chart_fill")


def _csv_response(text, name: str) -> Response:
    """A CSV download of ``text``: a string, or an iterator of pieces of it (streamed;
    it must need neither the database nor the request)."""
    response = Response(text, mimetype="text/csv")
    response.charset = "utf-8"
    filename = f"{name}-{clock.now().date().isoformat()}.csv"
    response.headers["Content-Disposition"] = content_disposition(filename)
    response.headers["Cache-Control"] = "no-store"
    return response


def _matrix(paginate: bool) -> matrix.Matrix:
    filters = matrix.Filters.from_args(request.args)
    try:
        return matrix.build(current_user, filters, clock.now(), paginate=paginate)
    except matrix.UnknownCohort:
        abort(404)


@bp.route("/")
@staff_only
def index():
    built = _matrix(paginate=True)
    org_ids = scope.organisation_ids(current_user, built.filters.organisation)
    return render_template(
        "dashboard/matrix.html",
        matrix=built,
        cohorts=cohorts.visible_cohorts(current_user, org_ids, archived=False),
        organisations=scope.organisations(current_user),
        statuses=CELL_STATUSES,
        categories=account_labels.CATEGORY_LABELS,
        sectors=account_labels.SECTOR_LABELS,
    )


@bp.route("/matrix.csv")
@staff_only
def matrix_csv():
    return _csv_response(exports.matrix_csv(_matrix(paginate=False)), "progress-matrix")


@bp.route("/learners/<public_id>")
@staff_only
def learner(public_id: str):
    found = scope.find_learner(current_user, public_id)
    if found is None:
        abort(404)
    return render_template("dashboard/learner.html", h=history.history(found), now=clock.now())


def _expiring_args() -> tuple[int, int | None]:
    organisation = matrix.Filters.from_args(request.args).organisation
    return expiring.window_days(request.args.get("days")), organisation


@bp.route("/expiring")
@staff_only
def expiring_list():
    days, organisation = _expiring_args()
    return render_template(
        "dashboard/expiring.html",
        items=expiring.expiring(current_user, days, clock.now(), organisation),
        days=days,
        windows=expiring.WINDOWS,
        organisation=organisation,
        organisations=scope.organisations(current_user),
    )


@bp.route("/expiring.csv")
@staff_only
def expiring_csv():
    days, organisation = _expiring_args()
    items = expiring.expiring(current_user, days, clock.now(), organisation)
    return _csv_response(exports.expiring_csv(items), f"expiring-{days}-days")


@bp.route("/cohorts", methods=["GET", "POST"])
@staff_only
def cohort_list():
    choices = [(org.id, org.name) for org in scope.organisations(current_user)]
    form = CohortForm()
    form.organisation.choices = choices
    if form.validate_on_submit():
        organisation = db.session.get(Organisation, form.organisation.data or 0)
        if organisation is None or not cohorts.can_manage(current_user, organisation.id):
            organisation = current_user.organisation
        try:
            cohort = cohorts.create_cohort(organisation, form.name.data, by=current_user)
        except cohorts.CohortError as error:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(error)]
        else:
            db.session.commit()
            flash(_("The cohort “%(name)s” is created.", name=cohort.name), "success")
            return redirect(url_for("dashboard.cohort", public_id=cohort.public_id))
    elif not form.is_submitted():
        form.organisation.data = current_user.organisation_id
    org_ids = scope.organisation_ids(current_user)
    return render_template(
        "dashboard/cohorts.html",
        form=form,
        active=cohorts.visible_cohorts(current_user, org_ids, archived=False),
        archived=cohorts.visible_cohorts(current_user, org_ids, archived=True),
        pick_organisation=len(choices) > 1,
    )


def _cohort_or_404(public_id: str):
    cohort = cohorts.find_cohort(current_user, public_id)
    if cohort is None:
        abort(404)
    return cohort


def _render_cohort(cohort, rename=None, add=None):
    add = add or AddMemberForm(formdata=None)
    add.learner.choices = [("", _("Choose a learner"))] + [
        (user.public_id, user.display_name) for user in cohorts.candidates(cohort)
    ]
    return render_template(
        "dashboard/cohort.html",
        cohort=cohort,
        members=cohorts.members(cohort),
        rename=rename or RenameForm(formdata=None, name=cohort.name),
        add=add,
        action=MemberActionForm(formdata=None),
    )


@bp.route("/cohorts/<public_id>")
@staff_only
def cohort(public_id: str):
    return _render_cohort(_cohort_or_404(public_id))


@bp.route("/cohorts/<public_id>/rename", methods=["POST"])
@staff_only
def rename_cohort(public_id: str):
    cohort = _cohort_or_404(public_id)
    form = RenameForm()
    if form.validate_on_submit():
        try:
            cohorts.rename_cohort(cohort, form.name.data, by=current_user)
        except cohorts.CohortError as error:
            db.session.rollback()
            form.name.errors = [*form.name.errors, str(error)]
        else:
            db.session.commit()
            flash(_("The cohort is renamed."), "success")
            return redirect(url_for("dashboard.cohort", public_id=cohort.public_id))
    return _render_cohort(cohort, rename=form), 400


@bp.route("/cohorts/<public_id>/archive", methods=["POST"])
@staff_only
def archive_cohort(public_id: str):
    cohort = _cohort_or_404(public_id)
    if not MemberActionForm().validate_on_submit():
        abort(400)
    archive = not cohort.is_archived
    cohorts.set_archived(cohort, archive, by=current_user)
    db.session.commit()
    flash(_("The cohort is archived.") if archive else _("The cohort is active again."), "success")
    return redirect(url_for("dashboard.cohort", public_id=cohort.public_id))


@bp.route("/cohorts/<public_id>/members", methods=["POST"])
@staff_only
def add_member(public_id: str):
    cohort = _cohort_or_404(public_id)
    form = AddMemberForm()
    if form.validate_on_submit():
        try:
            learner = cohorts.add_member(cohort, form.learner.data, by=current_user)
        except cohorts.CohortError as error:
            db.session.rollback()
            form.learner.errors = [*form.learner.errors, str(error)]
        else:
            db.session.commit()
            flash(_("%(name)s is added to the cohort.", name=learner.display_name), "success")
            return redirect(url_for("dashboard.cohort", public_id=cohort.public_id))
    return _render_cohort(cohort, add=form), 400


@bp.route("/cohorts/<public_id>/members/remove", methods=["POST"])
@staff_only
def remove_member(public_id: str):
    cohort = _cohort_or_404(public_id)
    form = MemberActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        learner = cohorts.remove_member(cohort, form.learner.data, by=current_user)
    except cohorts.CohortError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("%(name)s is no longer in the cohort.", name=learner.display_name), "success")
    return redirect(url_for("dashboard.cohort", public_id=cohort.public_id))


# The blueprint's other pages, each in a module of its own.
from lms.dashboard import report_views, results_views, sessions_views  # noqa: E402, F401
