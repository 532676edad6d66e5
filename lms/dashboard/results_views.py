"""Dashboard routes: module results and item statistics (registered on the dashboard
blueprint of ``views``). Thin handlers over ``results`` and ``results_exports``."""

from __future__ import annotations

from flask import abort, render_template, request
from flask_login import current_user

from lms.dashboard import cohorts, itemstats, matrix, results, results_exports, scope
from lms.dashboard.views import _csv_response, bp, staff_only
from lms.practicals.wording import localized


def _scope() -> results.Scope:
    try:
        return results.scope_from_args(current_user, request.args)
    except matrix.UnknownCohort:
        abort(404)


def _sorted_summaries(within: results.Scope) -> tuple[list[results.ModuleSummary], str, bool]:
    sort = request.args.get("sort", "title")
    sort = sort if sort in results.SORT_KEYS else "title"
    descending = request.args.get("desc") == "1"
    found = results.module_summaries(within)
    return results.sort_summaries(found, sort, descending, localized), sort, descending


def _filters(within: results.Scope) -> dict:
    return {
        "organisations": scope.organisations(current_user),
        "cohorts": cohorts.visible_cohorts(current_user, within.org_ids, archived=False),
    }


@bp.route("/modules")
@staff_only
def module_list():
    within = _scope()
    summaries, sort, descending = _sorted_summaries(within)
    return render_template(
        "dashboard/modules.html",
        summaries=summaries,
        within=within,
        sort=sort,
        descending=descending,
        min_attempts=itemstats.MIN_ATTEMPTS,
        **_filters(within),
    )


@bp.route("/modules.csv")
@staff_only
def module_list_csv():
    summaries, _sort, _descending = _sorted_summaries(_scope())
    return _csv_response(results_exports.modules_csv(summaries), "module-results")


def _results(module_id: str) -> results.ModuleResults:
    module = results.find_module(module_id)
    if module is None:
        abort(404)
    version = request.args.get("version", type=int)
    return results.module_results(module, _scope(), version)


@bp.route("/modules/<module_id>")
@staff_only
def module_results(module_id: str):
    found = _results(module_id)
    return render_template(
        "dashboard/module_results.html",
        found=found,
        chart=results_exports.distribution_chart(found),
        words=results_exports,
        min_attempts=itemstats.MIN_ATTEMPTS,
        **_filters(found.within),
    )


@bp.route("/modules/<module_id>/items.csv")
@staff_only
def module_items_csv(module_id: str):
    found = _results(module_id)
    name = f"question-statistics-{found.module.id}-{found.version.label}"
    return _csv_response(results_exports.items_csv(found), name)


@bp.route("/modules/<module_id>/summary.csv")
@staff_only
def module_summary_csv(module_id: str):
    found = _results(module_id)
    name = f"module-results-{found.module.id}-{found.version.label}"
    return _csv_response(results_exports.summary_csv(found), name)
