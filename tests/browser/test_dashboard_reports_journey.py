"""A trainer goes through the dashboard's reports: module results with their chart,
the training report, upcoming sessions with eligibility, and xAPI delivery health;
every page passes the accessibility check and the report fits a phone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import assert_fits_width, screenshot
from tests.browser.test_dashboard_journey import acme_with_a_cohort, log_in


def test_trainer_reads_results_report_sessions_and_delivery(axe, page, chromium, live_server, seed):
    seed(acme_with_a_cohort)
    log_in(page, "tom@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    board = page.get_by_role("navigation", name="Dashboard")

    board.get_by_role("link", name="Module results").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Module results")
    gmp = page.get_by_role("row").filter(has=page.get_by_role("link", name="GMP fundamentals"))
    expect(gmp).to_have_count(1)
    axe(page)
    screenshot(page, "dashboard-modules")
    gmp.get_by_role("link", name="GMP fundamentals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Results of GMP fundamentals")
    expect(page.get_by_role("img").first).to_be_visible()
    axe(page)
    screenshot(page, "dashboard-module-results")

    board.get_by_role("link", name="Training report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Training report")
    # The chart is an image named by its title, with the same numbers as a table.
    expect(page.locator("svg.chart").first).to_have_attribute("role", "img")
    expect(page.locator("table.chart-data").first).to_be_attached()
    axe(page)
    screenshot(page, "dashboard-report")

    board.get_by_role("link", name="Upcoming sessions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Upcoming sessions and eligibility")
    axe(page)
    screenshot(page, "dashboard-sessions")

    board.get_by_role("link", name="xAPI delivery").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("xAPI delivery health")
    expect(page).to_have_url(re.compile(r"/dashboard/delivery"))
    axe(page)

    small = chromium.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": 360, "height": 740}
    )
    phone = small.new_page()
    log_in(phone, "tom@example.org")
    phone.goto("/dashboard/report")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Training report")
    assert_fits_width(phone)
    axe(phone)
    small.close()
