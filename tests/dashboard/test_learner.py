"""A learner's whole record on one page, for trainers of their organisation."""

from __future__ import annotations

import re
from datetime import timedelta

from lms.dashboard import cohorts
from lms.progress import qualifications
from tests.conftest import DEFAULT_PASSWORD


def test_the_page_shows_attempts_qualifications_corrections_and_cohorts(
    db, as_role, world, loaded, record_attempt, clock
):
    learner = world["learner"]
    record_attempt(learner, "alpha", 0.4, passed=False, at=clock.now() - timedelta(days=2))
    record_attempt(learner, "alpha", 0.85, passed=True)
    current = qualifications.current_qualifications(learner)["alpha"]
    qualifications.correct(
        current,
        by=world["trainer"],
        password=DEFAULT_PASSWORD,
        valid_until=clock.now() + timedelta(days=30),
        reason="Audit finding 12",
        now=clock.now(),
    )
    cohort = cohorts.create_cohort(learner.organisation, "Night shift", by=world["trainer"])
    cohorts.add_member(cohort, learner.public_id, by=world["trainer"])
    db.session.commit()
    html = as_role("trainer").get(f"/dashboard/learners/{learner.public_id}").get_data(as_text=True)
    assert "Alpha basics" in html
    assert "40 %" in html and "85 %" in html
    assert "Audit finding 12" in html and "replaced by a correction" in html
    assert "Night shift" in html
    for heading in (
        "Quiz attempts",
        "Qualifications",
        "Practical sessions",
        "Sign-offs",
        "Waivers",
        "Learning activity",
    ):
        assert heading in html
    assert len(re.findall(r"<caption", html)) >= 2


def test_statements_are_in_plain_words(db, as_role, world, loaded):
    from lms.catalog import services as catalog
    from lms.catalog.models import Module

    catalog.open_module(world["learner"], db.session.get(Module, "alpha"))
    db.session.commit()
    html = (
        as_role("trainer")
        .get(f"/dashboard/learners/{world['learner'].public_id}")
        .get_data(as_text=True)
    )
    assert "Opened the module “Alpha basics”" in html or "Started the module" in html
