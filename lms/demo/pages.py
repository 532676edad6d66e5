"""Every page of the dashboards a member of staff can open, filled with real ids.

The pages are read from the application's URL map (endpoints ``dashboard.*`` that
answer GET), so a page added to the blueprint is covered as soon as it exists; each
path parameter gets an id from the data the member of staff may see (the busiest
learner, the largest cohort, the most attempted module, ...). Used by the benchmark of
``bench/dashboard_pages.py`` and by the tests of the synthetic data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask import Flask

from lms.auth.models import User
from lms.dashboard import scope
from lms.dashboard.models import Cohort, CohortMember
from lms.extensions import db
from lms.practicals.models import Booking, PracticalSession, PracticalType
from lms.quiz.models import Attempt
from lms.xapi.models import LrsEndpoint

#: Query strings also measured, per endpoint ({cohort}, {module} are filled in).
VARIANTS = {
    "dashboard.index": (
        "",
        "?page=2",
        "?cohort={cohort}",
        "?status=failed",
        "?status=expiring",
        "?status=in_progress",
        "?status=expired&column=module:{module}",
        "?sort=module:{module}",
        "?category=job_seeker&sector=biopharma",
    ),
    "dashboard.matrix_csv": ("", "?cohort={cohort}", "?status=failed"),
    "dashboard.expiring_list": ("?days=30", "?days=90"),
    "dashboard.expiring_csv": ("?days=90",),
    #: The report's export asks for one of its tables.
    "dashboard.report_csv": ("?table=category", "?table=month"),
}


@dataclass(frozen=True)
class Page:
    endpoint: str
    path: str


@dataclass(frozen=True)
class Skipped:
    endpoint: str
    rule: str
    reason: str


def _ids(actor: User) -> dict[str, str]:
    """An id of each kind of thing, among what ``actor`` may see."""
    org_ids = scope.organisation_ids(actor)
    learners = scope.restrict(
        sa.select(User.id).where(User.role == "learner"), User.organisation_id, org_ids
    )
    found: dict[str, str] = {}
    busiest = db.session.execute(
        sa.select(User.public_id, sa.func.count(Attempt.id).label("n"))
        .join(Attempt, Attempt.user_id == User.id)
        .where(User.id.in_(learners))
        .group_by(User.public_id)
        .order_by(sa.desc("n"), User.public_id)
        .limit(1)
    ).first()
    if busiest:
        found["learner"] = busiest.public_id
    cohort = db.session.scalar(
        scope.restrict(
            sa.select(Cohort.public_id)
            .join(CohortMember, CohortMember.cohort_id == Cohort.id)
            .where(Cohort.archived_at.is_(None))
            .group_by(Cohort.public_id)
            .order_by(sa.func.count().desc(), Cohort.public_id),
            Cohort.organisation_id,
            org_ids,
        ).limit(1)
    )
    if cohort:
        found["cohort"] = cohort
    module = db.session.scalar(
        sa.select(Attempt.module_id)
        .where(Attempt.user_id.in_(learners))
        .group_by(Attempt.module_id)
        .order_by(sa.func.count().desc(), Attempt.module_id)
        .limit(1)
    )
    if module:
        found["module"] = module
    session = db.session.scalar(
        scope.restrict(
            sa.select(PracticalSession.public_id)
            .join(Booking, Booking.session_id == PracticalSession.id)
            .group_by(PracticalSession.public_id, PracticalSession.starts_at)
            .order_by(sa.func.count().desc(), PracticalSession.starts_at.desc()),
            PracticalSession.organisation_id,
            org_ids,
        ).limit(1)
    )
    if session:
        found["session"] = session
    practical = db.session.scalar(sa.select(PracticalType.id).order_by(PracticalType.id))
    if practical:
        found["practical"] = practical
    endpoint = db.session.scalar(
        scope.restrict(sa.select(LrsEndpoint.id), LrsEndpoint.organisation_id, org_ids).order_by(
            LrsEndpoint.id
        )
    )
    if endpoint:
        found["endpoint"] = str(endpoint)
    found["organisation"] = str(actor.organisation_id)
    return found


#: The word before a parameter in a rule (or the parameter's name) -> kind of id.
KINDS = {
    "learners": "learner",
    "learner": "learner",
    "cohorts": "cohort",
    "cohort": "cohort",
    "modules": "module",
    "module": "module",
    "module_id": "module",
    "sessions": "session",
    "session": "session",
    "types": "practical",
    "practicals": "practical",
    "type_id": "practical",
    "endpoints": "endpoint",
    "endpoint_id": "endpoint",
    "organisations": "organisation",
    "organisation_id": "organisation",
}


def _value(rule: str, argument: str, ids: dict[str, str]) -> str | None:
    before = re.split(rf"<(?:[^:>]+:)?{re.escape(argument)}>", rule)[0]
    words = [w for w in before.strip("/").split("/") if w and not w.startswith("<")]
    for hint in (argument, words[-1] if words else ""):
        kind = KINDS.get(hint)
        if kind and kind in ids:
            return ids[kind]
    return None


def dashboard_pages(app: Flask, actor: User) -> tuple[list[Page], list[Skipped]]:
    """The GET pages of the dashboards, with the query-string variants of ``VARIANTS``;
    and the pages no id could be found for."""
    ids = _ids(actor)
    adapter = app.url_map.bind("localhost")
    pages, skipped = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        endpoint = rule.endpoint
        if not endpoint.startswith("dashboard.") or endpoint == "dashboard.static":
            continue
        if "GET" not in (rule.methods or ()):
            continue
        values = {a: _value(rule.rule, a, ids) for a in sorted(rule.arguments)}
        missing = [argument for argument, value in values.items() if value is None]
        if missing:
            skipped.append(Skipped(endpoint, rule.rule, "no id for " + ", ".join(missing)))
            continue
        path = adapter.build(endpoint, values)
        for variant in VARIANTS.get(endpoint, ("",)):
            if "{" in variant and not all(k in ids for k in ("cohort", "module")):
                continue
            pages.append(Page(endpoint, path + variant.format(**ids)))
    return pages, skipped
