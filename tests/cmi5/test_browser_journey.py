"""In Chromium: a launch from the simulated LMS, the session page, Exit back to the LMS."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.wrappers import Response

from lms.auth import services as accounts
from lms.catalog.sync import sync_packages
from lms.cmi5 import services
from lms.cmi5.models import Cmi5Platform
from lms.extensions import db
from tests.browser.conftest import assert_fits_width, screenshot
from tests.catalog.conftest import PACKAGES

pytestmark = pytest.mark.browser


@pytest.fixture()
def host(seed, lms):
    """The test modules loaded in the live app and the simulated LMS registered there."""

    def setup():
        sync_packages(PACKAGES / "good")
        if db.session.scalar(sa.select(Cmi5Platform.id)):
            return
        organisation = accounts.create_organisation(name="Browser LMS learners", slug="browser-lms")
        services.create_platform(
            name="Browser LMS", organisation=organisation, origins=[lms.origin]
        )

    seed(setup)
    lms.server.expect_request("/courses/7").respond_with_handler(
        lambda _request: Response("<h1>Back in the LMS</h1>", content_type="text/html")
    )
    return lms


def test_launch_read_and_exit_back_to_the_lms(page, live_server, host, axe):
    launch = host.launch("alpha", return_url=host.server.url_for("/courses/7"))
    page.goto(host.url(launch))
    assert page.url.startswith(live_server.url + "/cmi5/sessions/")
    page.get_by_role("heading", name="Alpha basics").wait_for()
    axe(page)
    screenshot(page, "cmi5-session")
    page.get_by_role("link", name="Read the lessons").click()
    page.get_by_text("You started this module from your learning platform.").wait_for()
    page.get_by_role("link", name="Back to the session page, to exit").click()
    page.get_by_role("button", name="Exit").click()
    page.get_by_role("heading", name="Back in the LMS").wait_for()
    assert page.url == host.server.url_for("/courses/7")
    assert host.verbs(launch) == ["initialized", "terminated"]


def test_the_session_page_fits_a_phone_in_french(phone, host):
    host.preferences["learner-1625378"] = {"languagePreference": "fr-FR"}
    phone.goto(host.url(host.launch("alpha", learner="learner-1625378")))
    phone.get_by_role("button", name="Quitter").wait_for()
    screenshot(phone, "cmi5-session-phone")
    assert_fits_width(phone)
