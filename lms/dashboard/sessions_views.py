"""Dashboard routes: upcoming practical sessions with who can take them, and the learners
held back only by an expired qualification (registered on the dashboard blueprint of
``views``). Thin handlers over ``eligibility`` and ``eligibility_exports``."""

from __future__ import annotations

from functools import partial

from flask import abort, render_template, request
from flask_login import current_user

from lms.auth import policy
from lms.dashboard import cohorts, eligibility, eligibility_exports, scope
from lms.dashboard.views import _csv_response, bp, staff_only
from lms.practicals import wording
from lms.quiz import clock


def _view() -> eligibility.View:
    try:
        return eligibility.view_from_args(current_user, request.args)
    except eligibility.UnknownCohort:
        abort(404)


def _page(name: str) -> int | None:
    return request.args.get(name, type=int)


@bp.route("/sessions")
@staff_only
def session_list():
    view, now = _view(), clock.now()
    org_ids, people = eligibility.population(current_user, view)
    blocked = eligibility.blocked_by_expiry(people, now)
    return render_template(
        "dashboard/sessions.html",
        view=view,
        lines=eligibility.session_lines(org_ids, people, now),
        blocked=eligibility.page_of(blocked, _page("page")),
        names=wording.Names.load(),
        organisations=scope.organisations(current_user),
        cohorts=cohorts.visible_cohorts(current_user, org_ids, archived=False),
    )


@bp.route("/sessions.csv")
@staff_only
def session_list_csv():
    view = _view()
    org_ids, people = eligibility.population(current_user, view)
    lines = eligibility.session_lines(org_ids, people, clock.now())
    return _csv_response(eligibility_exports.sessions_csv(lines), "upcoming-sessions")


@bp.route("/sessions/blocked.csv")
@staff_only
def blocked_csv():
    _org_ids, people = eligibility.population(current_user, _view())
    blocked = eligibility.blocked_by_expiry(people, clock.now())
    text = eligibility_exports.blocked_csv(blocked, wording.Names.load())
    return _csv_response(text, "blocked-by-expiry")


def _session_or_404(public_id: str):
    session = eligibility.find_session(current_user, public_id)
    if session is None:
        abort(404)
    return session


@bp.route("/sessions/<public_id>")
@staff_only
def session_detail(public_id: str):
    session = _session_or_404(public_id)
    view = _view()
    found = eligibility.session_eligibility(current_user, session, view, clock.now())
    org_ids = eligibility.candidate_organisations(current_user, session, view)
    return render_template(
        "dashboard/session.html",
        view=view,
        found=found,
        eligible=eligibility.page_of(found.eligible, _page("eligible_page")),
        not_yet=eligibility.page_of(found.not_yet, _page("missing_page")),
        names=wording.Names.load(),
        organisations=scope.organisations(current_user),
        cohorts=cohorts.visible_cohorts(current_user, org_ids, archived=False),
        can_view=partial(policy.can_view_user, current_user),
    )


@bp.route("/sessions/<public_id>.csv")
@staff_only
def session_csv(public_id: str):
    session = _session_or_404(public_id)
    found = eligibility.session_eligibility(current_user, session, _view(), clock.now())
    text = eligibility_exports.roster_csv(found, wording.Names.load())
    return _csv_response(text, f"session-{session.starts_at.date().isoformat()}")
