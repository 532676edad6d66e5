"""A learner opens the catalog, reads GMP fundamentals in order, and is refused aseptic
handling's lessons with what is missing; the statements wait in the outbox, valid."""

from __future__ import annotations

import json
import re
from pathlib import Path

import sqlalchemy as sa
from playwright.sync_api import expect

from lms.auth import services as accounts
from lms.catalog.models import Module
from lms.catalog.sync import sync_packages
from lms.extensions import db
from lms.xapi.models import Statement
from lms.xapi.validation import problems
from tests.browser.conftest import screenshot

MODULES = Path(__file__).resolve().parents[2] / "modules"
PASSWORD = "clean room 2026"


def world() -> int:
    sync_packages(MODULES)
    org = accounts.create_organisation(name="Rhône Biologics", slug="rhone-biologics")
    accounts.create_user(
        email="lea@example.org",
        display_name="Léa Fontaine",
        password=PASSWORD,
        organisation=org,
        role="learner",
        learner_category="student",
        sector="biopharma",
    )
    gmp = db.session.get(Module, "gmp-fundamentals")
    return len(gmp.current_version.lessons)


def outbox() -> list[tuple[str, dict]]:
    rows = db.session.scalars(sa.select(Statement).order_by(Statement.id))
    return [(row.kind, json.loads(row.body)) for row in rows]


def test_learner_reads_gmp_in_order_and_is_refused_aseptic_handling(axe, page, seed):
    lesson_count = seed(world)
    page.goto("/login")
    page.get_by_label("E-mail address").fill("lea@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Modules").click()
    expect(page.get_by_role("link", name="GMP fundamentals")).to_be_visible()
    screenshot(page, "catalog")
    axe(page)
    page.get_by_role("link", name="GMP fundamentals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("GMP fundamentals")
    screenshot(page, "module")
    axe(page)

    page.get_by_role("region", name="Lessons").get_by_role("link").first.click()
    for number in range(1, lesson_count + 1):
        expect(page.get_by_text(f"Lesson {number} of {lesson_count}")).to_be_visible()
        if number == 2:
            screenshot(page, "lesson")
        axe(page)
        last = number == lesson_count
        name = "Mark as read" if last else "Mark as read and continue"
        page.get_by_role("button", name=name, exact=True).click()
    expect(page.get_by_text(f"{lesson_count} of {lesson_count} read").first).to_be_visible()

    page.goto("/modules/aseptic-handling")
    prerequisites = page.get_by_role("region", name="Modules to pass first")
    expect(prerequisites.get_by_role("link", name="GMP fundamentals")).to_be_visible()
    expect(prerequisites.get_by_text("not passed yet")).to_be_visible()
    expect(page.get_by_text("The lessons of this module open once you have passed")).to_be_visible()
    expect(page.get_by_role("region", name="Lessons")).to_have_count(0)
    screenshot(page, "module-prerequisites-missing")
    axe(page)
    # Typing a lesson's address leads back to the module page, not to the lesson.
    page.goto("/modules/aseptic-handling/lessons/clean-rooms-and-grades")
    expect(page).to_have_url(re.compile(r"/modules/aseptic-handling$"))
    expect(page.get_by_role("region", name="Lessons")).to_have_count(0)

    statements = seed(outbox)
    kinds = [kind for kind, _ in statements]
    assert kinds[:2] == ["module.launched", "module.initialized"]
    assert kinds.count("lesson.experienced") == lesson_count
    assert "module.launched" not in kinds[2:]
    assert all(problems(body) == [] for _, body in statements)
    lessons = [body["object"]["id"] for kind, body in statements if kind == "lesson.experienced"]
    assert len(set(lessons)) == lesson_count
    assert all(re.search(r"/modules/gmp-fundamentals/lessons/", iri) for iri in lessons)
