"""cmi5 fixtures: the shipped and test modules, a simulated cmi5 LMS, a platform for it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.catalog.models import Module
from lms.cmi5 import services
from lms.quiz import services as quiz
from lms.quiz.models import Attempt
from tests.catalog.conftest import (  # noqa: F401
    SHIPPED,
    as_role,
    loaded,
    module_root,
    sync_modules,
    world,
)
from tests.cmi5.simulated_lms import SimulatedLms
from tests.quiz.helpers import attempt_form


@pytest.fixture(scope="session")
def httpserver_listen_address():
    """The simulated LMS listens on 127.0.0.1 (a free port)."""
    return ("127.0.0.1", 0)


@pytest.fixture()
def lms(httpserver) -> SimulatedLms:
    return SimulatedLms(httpserver)


@pytest.fixture()
def platform(db, lms, make_org):
    """The simulated LMS, registered: its learners join the organisation Acme Pharma."""
    organisation = make_org("Host LMS learners")
    registered = services.create_platform(
        name="Simulated LMS", organisation=organisation, origins=[lms.origin]
    )
    db.session.commit()
    return registered


def page_csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Learner:
    """A browser that went through a cmi5 launch, doing what the learner does."""

    def __init__(self, client, db, launch_response):
        self.client = client
        self.db = db
        assert launch_response.status_code == 302, launch_response.get_data(as_text=True)[:800]
        self.session_path = launch_response.headers["Location"]

    def session_page(self):
        return self.client.get(self.session_path)

    def read_all_lessons(self, module_id: str) -> None:
        module = self.db.session.get(Module, module_id)
        for lesson in module.current_version.lessons:
            path = f"/modules/{module_id}/lessons/{lesson.slug}"
            token = page_csrf(self.client.get(path).get_data(as_text=True))
            answer = self.client.post(path + "/read", data={"csrf_token": token})
            assert answer.status_code == 302, answer.status_code

    def take_quiz(self, module_id: str, right: bool, wrong: int = 0):
        """Start an attempt, answer everything right or wrong (or all right but the first
        ``wrong`` questions), submit; the result page."""
        token = page_csrf(self.client.get(f"/modules/{module_id}/quiz").get_data(as_text=True))
        started = self.client.post(f"/modules/{module_id}/quiz/start", data={"csrf_token": token})
        assert started.status_code == 302, started.get_data(as_text=True)[:500]
        path = started.headers["Location"]
        public_id = path.rsplit("/", 1)[-1]
        self.db.session.expire_all()
        attempt = self.db.session.scalar(sa.select(Attempt).where(Attempt.public_id == public_id))
        questions = quiz.questions_of(attempt)
        if wrong:
            right = {question["id"] for question in questions[wrong:]}
        form = attempt_form(questions, right)
        form.add("csrf_token", page_csrf(self.client.get(path).get_data(as_text=True)))
        form.add("action", "submit")
        submitted = self.client.post(path, data=form)
        assert submitted.status_code == 302, submitted.status_code
        return self.client.get(submitted.headers["Location"])

    def exit(self, follow: bool = False):
        token = page_csrf(self.session_page().get_data(as_text=True))
        return self.client.post(self.session_path + "/exit", data={"csrf_token": token})


@pytest.fixture()
def launched(client, db, lms, platform, loaded):  # noqa: F811 (the imported fixture)
    """``launched(launch, on=client)``: a browser launched into that simulated launch."""

    def start(launch, on=None) -> Learner:
        browser = on or client
        return Learner(browser, db, browser.get(lms.url(launch)))

    return start


@pytest.fixture()
def cool_down_over(db):
    """``cool_down_over()``: the learner's failed attempts end their cooldown now."""

    def run() -> None:
        for attempt in db.session.scalars(sa.select(Attempt).where(Attempt.passed.is_(False))):
            attempt.submitted_at -= timedelta(hours=2)
        db.session.commit()

    return run


from tests.browser.conftest import (  # noqa: E402, F401 (fixtures of the browser journey)
    axe,
    axe_source,
    live_server,
    page,
    phone,
    seed,
)
from tests.xapi.test_strict_validator import strict_validator  # noqa: E402, F401
