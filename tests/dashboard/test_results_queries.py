"""The results pages and their exports cost the same number of queries for 10 or 500
learners, whether their figures are computed or remembered."""

from __future__ import annotations

import pytest

from lms.dashboard import cohorts, results
from tests.dashboard import results_fixtures as fixtures
from tests.dashboard.conftest import page_queries

fresh_figures = fixtures.fresh_figures


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/modules",
        "/dashboard/modules?cohort={cohort}&sort=pass_rate",
        "/dashboard/modules.csv",
        "/dashboard/modules/alpha",
        "/dashboard/modules/alpha?cohort={cohort}",
        "/dashboard/modules/alpha/items.csv",
        "/dashboard/modules/alpha/summary.csv?cohort={cohort}",
    ],
)
@pytest.mark.parametrize("remembered", [False, True], ids=["computed", "remembered"])
def test_query_count_does_not_grow_with_learners(
    db, app, make_org, make_user, many_learners, login_as, make_client, loaded, clock, path,
    remembered,
):  # fmt: skip
    counts = []
    for size in (10, 500):
        org = make_org()
        trainer = make_user("trainer", org)
        learners = many_learners(org, size)
        fixtures.bulk_attempts(db, learners, clock)
        cohort = cohorts.create_cohort(org, f"Cohort of {size}", by=trainer)
        for learner in learners[::2]:
            cohorts.add_member(cohort, learner.public_id, by=trainer)
        db.session.commit()
        client = login_as(trainer, on=make_client())
        counts.append(
            page_queries(
                client,
                path.format(cohort=cohort.public_id),
                before=None if remembered else results.figure_cache().clear,
            )
        )
    print(f"{path}: {counts[0]} queries with 10 learners, {counts[1]} with 500")
    assert counts[0] == counts[1]
