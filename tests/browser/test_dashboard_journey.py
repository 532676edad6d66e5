"""A trainer filters the progress matrix to a cohort, opens a learner's record,
downloads the CSV, and opens the expiring-qualifications list; at 360 px the matrix
scrolls inside its wrapper, not the page."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect

from lms.auth import services as accounts
from lms.catalog.models import Module
from lms.catalog.sync import sync_packages
from lms.dashboard import cohorts
from lms.db_types import utcnow
from lms.extensions import db
from lms.practicals import loading
from lms.progress import qualifications
from lms.quiz.models import Attempt
from tests.browser.conftest import assert_fits_width, screenshot
from tests.conftest import DEFAULT_PASSWORD

MODULES = Path(__file__).resolve().parents[2] / "modules"


def _pass(user, module_id, score, months):
    """A submitted, passed attempt 350 days ago and the qualification it issued."""
    module = db.session.get(Module, module_id)
    at = utcnow() - timedelta(days=350)
    attempt = Attempt(
        user_id=user.id,
        module_id=module_id,
        version_id=module.current_version_id,
        registration=str(uuid.uuid4()),
        number=1,
        started_at=at - timedelta(minutes=20),
        submitted_at=at,
        state="submitted",
        draw=[],
        score_raw=score * 10,
        score_max=10,
        score_scaled=score,
        passed=True,
    )
    db.session.add(attempt)
    db.session.flush()
    return qualifications.issue_for_pass(attempt, months, at)


def acme_with_a_cohort():
    sync_packages(MODULES)
    loading.sync_practicals(MODULES)
    org = accounts.create_organisation(name="Acme Pharma", slug="acme")
    trainer = accounts.create_user(
        email="tom@example.org",
        display_name="Tom Trainer",
        password=DEFAULT_PASSWORD,
        organisation=org,
        role="trainer",
    )
    people = {}
    for name, category in [("Léa Learner", "job_seeker"), ("Marc Worker", "worker")]:
        people[name] = accounts.create_user(
            email=name.split()[0].lower().replace("é", "e") + "@example.org",
            display_name=name,
            password=DEFAULT_PASSWORD,
            organisation=org,
            learner_category=category,
            sector="biopharma",
        )
    _pass(people["Léa Learner"], "gmp-fundamentals", 0.92, 12)  # ends in about 15 days
    cohort = cohorts.create_cohort(org, "Job-seekers intake March 2027", by=trainer)
    cohorts.add_member(cohort, people["Léa Learner"].public_id, by=trainer)


def log_in(tab, email):
    tab.goto("/login")
    tab.get_by_label("E-mail address").fill(email)
    tab.get_by_label("Password").fill(DEFAULT_PASSWORD)
    tab.get_by_role("button", name="Log in").click()


def test_trainer_filters_opens_a_learner_exports_and_checks_expiries(
    axe, page, chromium, live_server, seed
):
    seed(acme_with_a_cohort)
    log_in(page, "tom@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Progress matrix")
    matrix = page.locator("table.matrix")
    expect(matrix.locator("tbody tr")).to_have_count(2)

    page.get_by_label("Cohort").select_option(label="Job-seekers intake March 2027")
    page.get_by_role("button", name="Apply").click()
    expect(matrix.locator("tbody tr")).to_have_count(1)
    row = matrix.locator("tbody tr").first
    expect(row.get_by_role("rowheader")).to_have_text("Léa Learner")
    expect(row.locator('[data-column="module:gmp-fundamentals"]')).to_contain_text("Expiring")
    expect(row.locator('[data-column="module:gmp-fundamentals"]')).to_contain_text("Best 92 %")
    screenshot(page, "dashboard-matrix")
    axe(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export to CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("progress-matrix-")
    content = Path(download.path()).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert "Léa Learner" in text and "Marc Worker" not in text  # the cohort filter holds

    row.get_by_role("link", name="Léa Learner").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record of Léa Learner")
    expect(page.locator("body")).to_contain_text("Job-seekers intake March 2027")
    expect(page.get_by_role("heading", name="Qualifications")).to_be_visible()
    screenshot(page, "dashboard-learner")
    axe(page)

    page.get_by_role("link", name="Expiring qualifications").click()
    page.get_by_label("Ending within", exact=True).select_option("60")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table tbody tr")).to_have_count(1)
    expect(page.locator("table tbody tr").first).to_contain_text("Léa Learner")
    screenshot(page, "dashboard-expiring")
    axe(page)

    small = chromium.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 360, "height": 740}
    )
    phone = small.new_page()
    log_in(phone, "tom@example.org")
    phone.goto("/dashboard/")
    expect(phone.locator("table.matrix")).to_be_visible()
    assert_fits_width(phone)
    axe(phone)
    small.close()
