"""First journeys: register, log in, switch language, log out; an admin creates a trainer."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from lms.auth import services
from tests.browser.conftest import assert_fits_width, screenshot


def open_organisation(name="Open Campus", slug="open-campus"):
    return services.create_organisation(name=name, slug=slug, self_registration=True).slug


def test_register_log_out_log_in_and_switch_language(axe, page, seed):
    seed(open_organisation)
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))
    screenshot(page, "login")
    axe(page)
    page.get_by_role("link", name="Register").first.click()
    page.get_by_label("Organisation").select_option(label="Open Campus")
    page.get_by_label("Your name").fill("Samira Haddad")
    page.get_by_label("E-mail address").fill("samira@example.org")
    page.get_by_label("Password", exact=True).fill("clean room 2026")
    page.get_by_label("Repeat the password").fill("clean room 2026")
    page.get_by_label("I am a").select_option(label="Job-seeker")
    page.get_by_label("Sector").select_option(label="Biopharmaceutical")
    screenshot(page, "register")
    axe(page)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Samira Haddad")
    expect(page.get_by_text("Welcome! Your account is ready.")).to_be_visible()
    screenshot(page, "home-learner")
    axe(page)

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You are logged out.")).to_be_visible()

    page.get_by_label("E-mail address").fill("SAMIRA@example.org")
    page.get_by_label("Password").fill("clean room 2026")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Samira Haddad")

    page.get_by_label("Language").first.select_option("fr")
    page.get_by_role("button", name="Change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bienvenue, Samira Haddad")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_text("Vous êtes déconnecté.")).to_be_visible()


def test_registration_errors_are_announced_beside_the_fields(axe, page, seed):
    seed(open_organisation, "Second Campus", "second-campus")
    page.goto("/register")
    page.get_by_label("Your name").fill("X")
    page.get_by_label("E-mail address").fill("not an address")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat the password").fill("short")
    page.get_by_role("button", name="Create my account").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Enter a valid e-mail address.")
    email = page.get_by_label("E-mail address")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_value("not an address")
    described = email.get_attribute("aria-describedby")
    expect(page.locator(f"#{described}")).to_have_text(re.compile("valid e-mail"))
    axe(page)


def _admin_and_password():
    org = services.create_organisation(name="Acme Biologics", slug="acme-biologics")
    services.create_user(
        email="admin@acme.example.org",
        display_name="Alex Admin",
        password="admin password 1",
        organisation=org,
        role="admin",
    )


def test_admin_creates_a_trainer_who_then_logs_in(axe, page, seed):
    seed(_admin_and_password)
    page.goto("/login")
    page.get_by_label("E-mail address").fill("admin@acme.example.org")
    page.get_by_label("Password").fill("admin password 1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="People").click()
    screenshot(page, "people")
    axe(page)
    page.get_by_role("link", name="Add a person").click()
    page.get_by_label("Name", exact=True).fill("Theo Trainer")
    page.get_by_label("E-mail address").fill("theo@acme.example.org")
    page.get_by_label("Role").select_option(label="Trainer")
    page.get_by_label("Initial password").fill("trainer password 1")
    screenshot(page, "add-person")
    axe(page)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Theo Trainer can now log in.")).to_be_visible()
    expect(page.get_by_role("cell", name="theo@acme.example.org")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    page.get_by_label("E-mail address").fill("theo@acme.example.org")
    page.get_by_label("Password").fill("trainer password 1")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Theo Trainer")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="People")).to_be_visible()
    expect(nav.get_by_role("link", name="Audit trail")).to_have_count(0)


def test_login_page_on_a_phone_in_french_fits_and_works_by_keyboard(axe, phone, seed):
    phone.goto("/login")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Se connecter")
    assert_fits_width(phone)
    phone.keyboard.press("Tab")
    skip = phone.get_by_role("link", name="Aller au contenu")
    expect(skip).to_be_focused()
    screenshot(phone, "login-phone-fr")
    axe(phone)
