"""The sessions pages and their exports cost the same number of queries for 10 or 500
learners."""

# Fixtures imported from test_eligibility are named again as test parameters.
# ruff: noqa: F811

from __future__ import annotations

import pytest

from lms.dashboard import cohorts
from lms.practicals.models import Attendance, Booking, Waiver
from tests.dashboard.conftest import page_queries
from tests.dashboard.test_eligibility import grant, labs, schedule  # noqa: F401


def _organisation(size, make_org, make_user, many_learners, grant, schedule, db):
    """``size`` learners: a third with a valid alpha pass, a third with an expired one
    (one of them waived), a third with none; two sessions, seats and a waiting list."""
    org = make_org()
    trainer = make_user("trainer", org)
    learners = many_learners(org, size)
    cohort = cohorts.create_cohort(org, f"Cohort of {size}", by=trainer)
    for index, learner in enumerate(learners):
        if index % 3 == 0:
            grant(learner, "alpha", commit=False)
        elif index % 3 == 1:
            grant(learner, "alpha", issued_days_ago=400, valid_days=365, commit=False)
        if index % 2 == 0:
            cohorts.add_member(cohort, learner.public_id, by=trainer)
    first, second = schedule(trainer), schedule(trainer, "beta-lab", days=9)
    seats = [
        Booking(session_id=first.id, learner_id=learners[0].id, state="booked", position=1),
        Booking(session_id=first.id, learner_id=learners[3].id, state="booked", position=2),
        Booking(session_id=first.id, learner_id=learners[9].id, state="waiting", position=3),
    ]
    db.session.add_all(seats)
    db.session.flush()
    db.session.add(
        Attendance(
            session_id=first.id,
            learner_id=learners[0].id,
            booking_id=seats[0].id,
            checked_in_by_id=trainer.id,
        )
    )
    db.session.add(
        Waiver(
            learner_id=learners[1].id,
            type_id="alpha-lab",
            condition_key="qualification_valid:alpha",
            reason="Site certificate",
            signer_id=trainer.id,
            signer_name=trainer.display_name,
            meaning="approved-by",
        )
    )
    db.session.commit()
    return trainer, {"cohort": cohort.public_id, "session": first.public_id, "other": second}


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/sessions",
        "/dashboard/sessions?cohort={cohort}&page=2",
        "/dashboard/sessions.csv",
        "/dashboard/sessions/blocked.csv",
        "/dashboard/sessions/blocked.csv?cohort={cohort}",
        "/dashboard/sessions/{session}",
        "/dashboard/sessions/{session}?cohort={cohort}&eligible_page=2&missing_page=3",
        "/dashboard/sessions/{session}.csv",
    ],
)
def test_query_count_does_not_grow_with_learners(
    db,
    make_org,
    make_user,
    many_learners,
    grant,
    schedule,
    login_as,
    make_client,
    path,
):
    counts = []
    for size in (10, 500):
        trainer, ids = _organisation(size, make_org, make_user, many_learners, grant, schedule, db)
        client = login_as(trainer, on=make_client())
        counts.append(page_queries(client, path.format(**ids)))
    print(f"{path}: {counts[0]} queries with 10 learners, {counts[1]} with 500")
    assert counts[0] == counts[1]
