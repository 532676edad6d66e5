"""A learner sees what a practical still needs, passes it, books; the trainer checks
them in and signs off; the learner becomes eligible for aseptic filling.

The learner's module passes are issued in the seed step through the progress service
(``qualifications.issue_for_pass``) rather than by taking the quizzes in the browser;
the quiz journey is the quiz feature's own browser test.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from playwright.sync_api import expect

from lms.auth import services as accounts
from lms.catalog.sync import sync_packages
from lms.db_types import utcnow
from lms.extensions import db
from lms.practicals import loading, sessions
from lms.practicals.models import PracticalType
from lms.progress import qualifications
from tests.browser.conftest import assert_fits_width, screenshot
from tests.conftest import DEFAULT_PASSWORD

MODULES = Path(__file__).resolve().parents[2] / "modules"


def centre_with_sessions():
    sync_packages(MODULES)
    assert {e.outcome for e in loading.sync_practicals(MODULES)} == {"loaded"}
    org = accounts.create_organisation(name="Acme Pharma", slug="acme")
    trainer = accounts.create_user(
        email="tom@example.org",
        display_name="Tom Trainer",
        password=DEFAULT_PASSWORD,
        organisation=org,
        role="trainer",
    )
    learner = accounts.create_user(
        email="lea@example.org",
        display_name="Léa Learner",
        password=DEFAULT_PASSWORD,
        organisation=org,
        learner_category="worker",
    )
    for type_id, starts_in, closes in (
        ("grade-b-gowning", timedelta(hours=1), 0),
        ("aseptic-filling", timedelta(days=5), None),
    ):
        sessions.create_session(
            practical_type=db.session.get(PracticalType, type_id),
            organisation=org,
            starts_at=utcnow() + starts_in,
            room="Clean room 2",
            trainer=trainer,
            capacity=4,
            booking_closes_hours=closes,
            by=trainer,
            now=utcnow(),
        )
    return learner.id


def pass_module(user_id, module_id, score):
    """What a passed quiz attempt does: the progress service issues the qualification."""
    from lms.auth.models import User
    from lms.catalog.models import Module

    user = db.session.get(User, user_id)
    module = db.session.get(Module, module_id)
    attempt = SimpleNamespace(
        id=None,
        public_id=f"seed-{module_id}",
        user=user,
        user_id=user.id,
        module_id=module_id,
        version_id=module.current_version_id,
        score_scaled=score,
    )
    qualifications.issue_for_pass(attempt, module.current_version.validity_months, utcnow())


def log_in(tab, email):
    tab.goto("/login")
    tab.get_by_label("E-mail address").fill(email)
    tab.get_by_label("Password").fill(DEFAULT_PASSWORD)
    tab.get_by_role("button", name="Log in").click()


def section(tab, type_id):
    return tab.locator(f"#type-{type_id}")


def test_gated_booking_check_in_sign_off_then_eligible_for_filling(
    axe, page, chromium, live_server, seed
):
    learner_id = seed(centre_with_sessions)
    seed(pass_module, learner_id, "gmp-fundamentals", 0.9)

    log_in(page, "lea@example.org")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Practicals").click()
    gowning = section(page, "grade-b-gowning")
    missing = gowning.locator(".not-eligible li")
    expect(missing).to_have_count(1)
    expect(missing).to_contain_text("Hold a valid pass of the module “Aseptic handling")
    expect(missing.get_by_role("link")).to_have_attribute("href", "/modules/aseptic-handling")
    expect(gowning.get_by_role("button", name="Book a seat")).to_have_count(0)
    filling = section(page, "aseptic-filling")
    expect(filling.locator(".not-eligible li")).to_have_count(2)
    screenshot(page, "practicals-learner-missing")
    axe(page)

    seed(pass_module, learner_id, "aseptic-handling", 0.85)
    page.reload()
    expect(gowning.get_by_text("You meet the prerequisites.")).to_be_visible()
    gowning.get_by_role("button", name="Book a seat").click()
    expect(page.get_by_text("Your seat is booked.")).to_be_visible()

    trainer_context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    trainer = trainer_context.new_page()
    log_in(trainer, "tom@example.org")
    trainer.goto("/practicals/")
    axe(trainer)
    trainer.get_by_role("link", name="Aseptic filling").count()  # the list names the types
    trainer.locator("table").first.get_by_role("link").first.click()
    expect(trainer.get_by_role("heading", level=1)).to_have_text("Grade B gowning qualification")
    trainer.get_by_role("button", name="Check in Léa Learner").click()
    expect(trainer.get_by_text("Léa Learner is checked in.")).to_be_visible()
    axe(trainer)
    trainer.get_by_role("link", name="Sign off Léa Learner").click()
    trainer.get_by_role("radio", name="Pass").check()
    trainer.get_by_label("Comments").fill("Gowned in the right order; finger dabs clean.")
    trainer.get_by_label("Your password (signature)").fill(DEFAULT_PASSWORD)
    screenshot(trainer, "practicals-sign-off")
    axe(trainer)
    trainer.get_by_role("button", name="Sign").click()
    expect(trainer.get_by_text("Signed off.")).to_be_visible()
    expect(trainer.locator(".roster")).to_contain_text(
        "Assessment performed and approved by Tom Trainer"
    )
    screenshot(trainer, "practicals-roster")
    axe(trainer)
    trainer_context.close()

    page.reload()
    expect(filling.get_by_text("You meet the prerequisites.")).to_be_visible()
    expect(filling.get_by_role("button", name="Book a seat")).to_be_visible()


def phone_learner():
    org = accounts.create_organisation(name="Phone Co", slug="phone-co")
    accounts.create_user(
        email="sam@example.org",
        display_name="Sam",
        password=DEFAULT_PASSWORD,
        organisation=org,
        learner_category="student",
    )


def test_the_learners_page_fits_a_phone(axe, phone, seed):
    seed(phone_learner)
    phone.goto("/login")
    phone.locator("#email").fill("sam@example.org")
    phone.locator("#password").fill(DEFAULT_PASSWORD)
    phone.locator("form button[type=submit]").last.click()
    phone.goto("/practicals/")
    expect(phone).to_have_url(re.compile(r"/practicals/$"))
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    assert_fits_width(phone)
    screenshot(phone, "practicals-phone-fr")
    axe(phone)
