"""Dashboard routes: the centre's training report and the xAPI delivery health
(registered on the dashboard blueprint of ``views``). Thin handlers over ``report``,
``report_exports`` and ``delivery``."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask_login import current_user

from lms.auth import policy
from lms.dashboard import delivery, matrix, report, report_exports, scope
from lms.dashboard.period import Period, PeriodError, centre_timezone, presets
from lms.dashboard.views import _csv_response, bp, staff_only
from lms.quiz import clock


def _organisation() -> int | None:
    return matrix.Filters.from_args(request.args).organisation


def _scope_names(organisations, wanted: int | None) -> list[str] | None:
    """The names of the organisations the page covers (None: all of them)."""
    org_ids = scope.organisation_ids(current_user, wanted)
    return None if org_ids is None else [o.name for o in organisations if o.id in org_ids]


def _today():
    return clock.now().astimezone(centre_timezone()).date()


def _period() -> Period:
    return Period.from_args(request.args, _today())


@bp.route("/report")
@staff_only
def centre_report():
    organisation = _organisation()
    organisations = scope.organisations(current_user)
    context = {
        "organisation": organisation,
        "organisations": organisations,
        "scope_names": _scope_names(organisations, organisation),
        "values": {name: request.args.get(name, "")[:40] for name in ("from", "to")},
        "presets": presets(_today()),
        **report_exports.template_helpers(),
    }
    try:
        period = _period()
    except PeriodError as error:
        return render_template(
            "dashboard/report.html", report=None, errors=error.errors, **context
        ), 400
    built = report.build(current_user, period, organisation)
    context["values"] = period.args()
    return render_template(
        "dashboard/report.html",
        report=built,
        charts=report_exports.charts(built),
        errors={},
        **context,
    )


@bp.route("/report.csv")
@staff_only
def report_csv():
    table = request.args.get("table", "")
    if table not in report_exports.TABLES:
        abort(404)
    try:
        period = _period()
    except PeriodError as error:
        return Response(str(error), status=400, mimetype="text/plain")
    built = report.build(current_user, period, _organisation())
    name = f"training-report-{table}-{period.start.isoformat()}-to-{period.end.isoformat()}"
    return _csv_response(report_exports.report_csv(built, table), name)


@bp.route("/delivery")
@staff_only
def delivery_health():
    organisation = _organisation()
    organisations = scope.organisations(current_user)
    days = delivery.window_days(request.args.get("days"))
    now = clock.now()
    return render_template(
        "dashboard/delivery.html",
        endpoints=delivery.endpoint_health(current_user, organisation, now),
        per_day=delivery.statements_chart(current_user, organisation, days, now),
        days=days,
        windows=delivery.WINDOWS,
        organisation=organisation,
        organisations=organisations,
        scope_names=_scope_names(organisations, organisation),
        age=delivery.age_text,
        may_manage=lambda endpoint: policy.can_manage_organisation(
            current_user, endpoint.organisation
        ),
    )


@bp.route("/delivery.csv")
@staff_only
def delivery_csv():
    rows = delivery.endpoint_health(current_user, _organisation(), clock.now())
    return _csv_response(delivery.endpoints_csv(rows), "xapi-delivery")
