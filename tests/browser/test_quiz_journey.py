"""A learner fails GMP fundamentals, waits out the cooldown, passes, prints the
certificate; the statements reach a strict LRS and validate."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.auth import services as accounts
from lms.catalog.sync import sync_packages
from lms.extensions import db
from lms.quiz import services as quiz
from lms.quiz.models import Attempt
from lms.xapi import services as xapi_services
from lms.xapi.validation import problems
from lms.xapi.worker import Worker
from tests.browser.conftest import screenshot
from tests.quiz.conftest import Clock
from tests.quiz.helpers import answer_fields
from tests.xapi.lrs import KEY, SECRET, FakeLrs, LrsServer

MODULES = Path(__file__).resolve().parents[2] / "modules"
PASSWORD = "clean room 2026"


@pytest.fixture()
def lrs():
    server = LrsServer(FakeLrs()).start()
    yield server
    server.stop()


@pytest.fixture()
def clock(monkeypatch):
    from lms.quiz import clock as quiz_clock

    fake = Clock(datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(quiz_clock, "now", fake.now)
    return fake


def world(lrs_url: str) -> None:
    sync_packages(MODULES)
    org = accounts.create_organisation(name="Acme Biologics", slug="acme-biologics")
    accounts.create_user(
        email="nadia@example.org",
        display_name="Nadia Benali",
        password=PASSWORD,
        organisation=org,
        role="learner",
        learner_category="worker",
    )
    xapi_services.create_endpoint(
        organisation=org, name="Test LRS", url=lrs_url, key=KEY, secret=SECRET
    )


def open_questions() -> list[dict]:
    attempt = db.session.scalar(sa.select(Attempt).where(Attempt.state == "open"))
    return [
        {**question, "order": entry}
        for question, entry in zip(quiz.questions_of(attempt), attempt.draw, strict=True)
    ]


def answer(page, question: dict, right: bool) -> None:
    """Fill in one question as a person would, through the page's controls."""
    for name, value in answer_fields(question, right):
        control = page.locator(f'[name="{name}"]')
        kind = control.first.get_attribute("type")
        if kind in ("radio", "checkbox"):
            page.locator(f'[name="{name}"][value="{value}"]').check()
        elif control.first.evaluate("e => e.tagName") == "SELECT":
            control.select_option(value)
        else:
            control.fill(value)


def test_fail_wait_retry_pass_certificate_and_statements(axe, page, seed, live_server, lrs, clock):
    seed(world, lrs.url)
    page.goto("/login")
    page.get_by_label("E-mail address").fill("nadia@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto("/modules/gmp-fundamentals/quiz")
    page.get_by_role("button", name="Start the quiz").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Quiz: GMP fundamentals")
    questions = seed(open_questions)
    assert len(questions) == 15
    for question in questions:
        answer(page, question, right=False)
    screenshot(page, "quiz-attempt")
    axe(page)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Attempt 1: not passed")
    expect(page.locator("#retry-message")).to_contain_text("You may try again from")
    axe(page)

    page.goto("/my-training")
    row = page.locator('tr[data-module="gmp-fundamentals"]')
    expect(row).to_contain_text("Locked until")
    expect(row).to_contain_text("2")  # attempts left
    axe(page)

    clock.advance(minutes=61)
    page.goto("/modules/gmp-fundamentals/quiz")
    page.get_by_role("button", name="Start a new attempt").click()
    questions = seed(open_questions)
    for question in questions:
        answer(page, question, right=True)
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Attempt 2: passed")
    screenshot(page, "quiz-result")
    axe(page)

    page.get_by_role("link", name="My training").first.click()
    row = page.locator('tr[data-module="gmp-fundamentals"]')
    expect(row).to_contain_text("Passed")
    expect(row).to_contain_text("100 %")
    expect(row).to_contain_text("Valid until")
    row.get_by_role("link", name="Certificate").click()
    expect(page.locator(".certificate .name")).to_have_text("Nadia Benali")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    assert page.pdf()[:4] == b"%PDF"
    screenshot(page, "certificate")
    axe(page)
    verify_url = page.locator(".verify a").get_attribute("href")
    code = verify_url.rsplit("/", 1)[-1]

    stranger = page.context.browser.new_context(base_url=live_server.url)
    anonymous = stranger.new_page()
    anonymous.goto(f"/verify/{code}")
    expect(anonymous.locator("#verdict")).to_contain_text("genuine and the qualification is valid")
    expect(anonymous.locator(".certificate")).to_contain_text("Nadia Benali")
    expect(anonymous.locator(".certificate")).to_contain_text("GMP fundamentals")
    axe(anonymous)
    stranger.close()

    Worker(live_server.app).run(once=True)
    received = list(lrs.lrs.statements.values())
    assert lrs.lrs.problems == []
    verbs = [re.sub(r".*/", "", s["verb"]["id"]) for s in received]
    assert verbs.count("answered") == 30
    assert verbs.count("failed") == 1 and verbs.count("passed") == 1
    for statement in received:
        assert problems(statement) == [], statement
    passed = next(s for s in received if s["verb"]["id"].endswith("/passed"))
    assert passed["result"]["score"]["scaled"] == 1.0
    assert passed["result"]["success"] is True and passed["result"]["completion"] is True
