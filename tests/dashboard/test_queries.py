"""The matrix and its export cost the same number of queries for 10 or 500 learners."""

from __future__ import annotations

import pytest

from lms.dashboard import cohorts
from tests.dashboard.conftest import page_queries


def _with_records(org, count, many_learners, record_attempt, trainer, db, clock):
    learners = many_learners(org, count)
    cohort = cohorts.create_cohort(org, f"Cohort of {count}", by=trainer)
    for index, learner in enumerate(learners):
        if index % 3 == 0:
            record_attempt(learner, "alpha", 0.9, passed=True, valid_days=20)
        elif index % 3 == 1:
            record_attempt(learner, "alpha", 0.2, passed=False)
        cohorts.add_member(cohort, learner.public_id, by=trainer)
    db.session.commit()
    return cohort


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/",
        "/dashboard/?cohort={cohort}",
        "/dashboard/?sort=module:alpha&status=expiring",
        "/dashboard/matrix.csv",
        "/dashboard/matrix.csv?cohort={cohort}&status=failed",
        "/dashboard/expiring?days=30",
        "/dashboard/expiring.csv?days=90",
    ],
)
def test_query_count_does_not_grow_with_learners(
    db,
    make_org,
    make_user,
    many_learners,
    record_attempt,
    login_as,
    make_client,
    loaded,
    clock,
    path,
):
    counts = []
    for size in (10, 500):
        org = make_org()
        trainer = make_user("trainer", org)
        cohort = _with_records(org, size, many_learners, record_attempt, trainer, db, clock)
        client = login_as(trainer, on=make_client())
        counts.append(page_queries(client, path.format(cohort=cohort.public_id)))
    print(f"{path}: {counts[0]} queries with 10 learners, {counts[1]} with 500")
    assert counts[0] == counts[1]
