"""Double clicks, replays and second tabs as real concurrent requests to a live server."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from lms import create_app
from lms.auth import services as accounts
from lms.catalog.sync import sync_packages
from lms.extensions import db
from lms.progress.models import Qualification
from lms.quiz.models import Attempt
from lms.xapi.models import Statement
from tests.browser.conftest import LiveServer, _database_url
from tests.conftest import DEFAULT_PASSWORD, reset_schema, test_config
from tests.quiz.helpers import attempt_form

PACKAGES = Path(__file__).resolve().parents[1] / "catalog" / "packages" / "good"
THREADS = 8


@pytest.fixture(scope="module")
def server(backend, tmp_path_factory):
    url, drop = _database_url(backend, tmp_path_factory.mktemp("quiz-live"))
    app = create_app(test_config(url, RATELIMIT_ENABLED=False))
    reset_schema(app)
    with app.app_context():
        sync_packages(PACKAGES)
        db.session.commit()
    live = LiveServer(app)
    live.start()
    yield live
    live.stop()
    with app.app_context():
        db.engine.dispose()
    if drop:
        drop()


_count = iter(range(1, 10_000))


def learner_session(server) -> requests.Session:
    """A new learner, logged in through the login form."""
    number = next(_count)
    with server.app.app_context():
        org = accounts.create_organisation(name=f"Org {number}", slug=f"org-{number}")
        accounts.create_user(
            email=f"learner{number}@example.org",
            display_name=f"Learner {number}",
            password=DEFAULT_PASSWORD,
            organisation=org,
            role="learner",
            learner_category="worker",
        )
        db.session.commit()
    browser = requests.Session()
    token = form_token(browser, server.url + "/login")
    answer = browser.post(
        server.url + "/login",
        data={
            "email": f"learner{number}@example.org",
            "password": DEFAULT_PASSWORD,
            "csrf_token": token,
        },
        allow_redirects=False,
    )
    assert answer.status_code == 302
    return browser


def form_token(browser, url) -> str:
    html = browser.get(url).text
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def tab(browser) -> requests.Session:
    """Another tab of the same browser: the same cookies, its own connection."""
    other = requests.Session()
    other.cookies.update(browser.cookies)
    return other


def all_at_once(calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        results[index] = call()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def counts(server, user_email):
    with server.app.app_context():
        from lms.auth.models import User

        user = db.session.scalar(sa.select(User).where(User.email == user_email))
        attempts = db.session.scalars(sa.select(Attempt).where(Attempt.user_id == user.id)).all()
        kinds = db.session.scalars(sa.select(Statement.kind).where(Statement.user_id == user.id))
        quals = db.session.scalar(
            sa.select(sa.func.count(Qualification.id)).where(Qualification.user_id == user.id)
        )
        db.session.remove()
        return attempts, list(kinds), quals


def start(server, browser) -> str:
    token = form_token(browser, server.url + "/modules/alpha/quiz")
    answer = browser.post(
        server.url + "/modules/alpha/quiz/start", data={"csrf_token": token}, allow_redirects=False
    )
    assert answer.status_code == 302, answer.text[:300]
    return answer.headers["Location"].rsplit("/", 1)[-1]


def email_of(browser, server) -> str:
    return re.search(r"learner\d+@example.org", browser.get(server.url + "/account").text).group(0)


def test_concurrent_submits_grade_once_and_a_replay_changes_nothing(server):
    browser = learner_session(server)
    public_id = start(server, browser)
    with server.app.app_context():
        attempt = db.session.scalar(sa.select(Attempt).where(Attempt.public_id == public_id))
        from lms.quiz.services import questions_of

        form = attempt_form(questions_of(attempt))
        db.session.remove()
    url = f"{server.url}/attempts/{public_id}"
    token = form_token(browser, url)
    data = [*form.items(multi=True), ("csrf_token", token), ("action", "submit")]
    tabs = [tab(browser) for _ in range(THREADS)]
    answers = all_at_once([lambda t=t: t.post(url, data=data, allow_redirects=False) for t in tabs])
    assert [a.status_code for a in answers] == [302] * THREADS
    assert {a.headers["Location"] for a in answers} == {f"/attempts/{public_id}/result"}
    email = email_of(browser, server)
    attempts, kinds, quals = counts(server, email)
    assert [(a.state, a.passed, a.score_raw) for a in attempts] == [("submitted", True, 7.0)]
    assert kinds.count("attempt.passed") == 1 and kinds.count("question.answered") == 7
    assert quals == 1
    replay = browser.post(url, data=data, allow_redirects=False)
    assert replay.status_code == 302
    assert counts(server, email)[1:] == (kinds, quals)


def test_second_tabs_starting_at_once_get_one_attempt(server):
    browser = learner_session(server)
    token = form_token(browser, server.url + "/modules/alpha/quiz")
    url = server.url + "/modules/alpha/quiz/start"
    tabs = [tab(browser) for _ in range(THREADS)]
    answers = all_at_once(
        [lambda t=t: t.post(url, data={"csrf_token": token}, allow_redirects=False) for t in tabs]
    )
    assert {a.status_code for a in answers} == {302}
    assert len({a.headers["Location"] for a in answers}) == 1
    attempts, kinds, _quals = counts(server, email_of(browser, server))
    assert len(attempts) == 1
    assert kinds.count("module.launched") == 1
