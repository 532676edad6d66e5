"""The embedded default's SQLite file becomes read-only or full under a learner's feet.

The learner gets a clear page (503, the site's layout, their language, Retry-After),
never a stack trace; nothing is half-written (an attempt is submitted with all its
answers and statements or not at all; no lesson read without its statement, none
without its read); the file passes SQLite's integrity check; and once the condition
is lifted the same action succeeds.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from lms.catalog.models import LessonRead
from lms.extensions import db
from lms.quiz.models import Attempt
from lms.quiz.services import questions_of
from lms.xapi.models import Statement
from tests.faults.conftest import form_token
from tests.quiz.helpers import attempt_form

FAULTS = ["read-only", "full"]
LESSON = "/modules/alpha/lessons/first"


def assert_clear_unavailable_page(response, words: str = "cannot use its database") -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == 503, html[:500]
    assert int(response.headers["Retry-After"]) > 0
    assert words in html
    assert 'class="site-header"' in html  # the site's layout, not a bare error
    assert "Traceback" not in html and "OperationalError" not in html and "sqlite" not in html


def recorded(app) -> dict:
    """What the database holds, read with a fresh connection."""
    with app.app_context():
        reads = db.session.scalar(sa.select(sa.func.count()).select_from(LessonRead))
        kinds = list(db.session.scalars(sa.select(Statement.kind).order_by(Statement.id)))
        attempts = [
            (a.state, len(a.answers), a.score_raw) for a in db.session.scalars(sa.select(Attempt))
        ]
        check = db.session.execute(sa.text("PRAGMA integrity_check")).scalar()
        db.session.remove()
    return {"reads": reads, "kinds": kinds, "attempts": attempts, "integrity": check}


def started_attempt(embedded) -> tuple[str, list]:
    client = embedded.client
    token = form_token(client, "/modules/alpha/quiz")
    started = client.post("/modules/alpha/quiz/start", data={"csrf_token": token})
    assert started.status_code == 302, started.get_data(as_text=True)[:300]
    public_id = started.headers["Location"].rsplit("/", 1)[-1]
    with embedded.app.app_context():
        attempt = db.session.scalar(sa.select(Attempt).where(Attempt.public_id == public_id))
        questions = questions_of(attempt)
        db.session.remove()
    return public_id, questions


@pytest.mark.parametrize("kind", FAULTS)
def test_marking_a_lesson_read_on_a_broken_file_is_refused_cleanly_then_works(
    embedded, sqlite_fault, kind
):
    client = embedded.client
    token = form_token(client, LESSON)
    before = recorded(embedded.app)
    fault = sqlite_fault(embedded.app, kind)

    refused = client.post(LESSON + "/read", data={"csrf_token": token})

    assert_clear_unavailable_page(refused)
    assert recorded(embedded.app) == before
    assert before["integrity"] == "ok"
    fault.lift()
    done = client.post(LESSON + "/read", data={"csrf_token": token})
    assert done.status_code == 302
    after = recorded(embedded.app)
    assert after["reads"] == before["reads"] + 1
    assert after["kinds"] == [*before["kinds"], "lesson.experienced"]
    assert after["integrity"] == "ok"


@pytest.mark.parametrize("kind", FAULTS)
def test_a_quiz_submitted_on_a_broken_file_stays_open_with_its_answers_then_submits_once(
    embedded, sqlite_fault, kind
):
    client = embedded.client
    public_id, questions = started_attempt(embedded)
    url = f"/attempts/{public_id}"
    token = form_token(client, url)
    answers = [*attempt_form(questions).items(multi=True), ("csrf_token", token)]

    def form(action: str) -> MultiDict:
        return MultiDict([*answers, ("action", action)])

    assert client.post(url, data=form("save")).status_code == 302
    before = recorded(embedded.app)
    assert before["attempts"] == [("open", 7, None)]
    fault = sqlite_fault(embedded.app, kind)

    refused = client.post(url, data=form("submit"))

    assert_clear_unavailable_page(refused)
    assert recorded(embedded.app) == before
    fault.lift()
    assert client.get(url).status_code == 200  # the open attempt can be resumed
    done = client.post(url, data=form("submit"))
    assert done.headers["Location"] == f"/attempts/{public_id}/result"
    after = recorded(embedded.app)
    assert after["attempts"] == [("submitted", 7, 7.0)]
    new = after["kinds"][len(before["kinds"]) :]
    assert new.count("question.answered") == 7 and new.count("attempt.passed") == 1
    assert after["integrity"] == "ok"
    replay = client.post(url, data=form("submit"))
    assert replay.status_code == 302 and recorded(embedded.app) == after


def test_the_unavailable_page_speaks_the_learners_language(embedded, sqlite_fault):
    client = embedded.client
    token = form_token(client, LESSON)
    sqlite_fault(embedded.app, "read-only")
    refused = client.post(
        LESSON + "/read", data={"csrf_token": token}, headers={"Accept-Language": "fr"}
    )
    assert_clear_unavailable_page(refused, "ne peut pas utiliser sa base de données")
    api = client.post(
        LESSON + "/read", data={"csrf_token": token}, headers={"Accept": "application/json"}
    )
    assert api.status_code == 503 and api.json["error"]["status"] == 503


def test_a_database_that_cannot_be_opened_gives_the_page_to_a_logged_in_learner(embedded):
    """The layout cannot even load the person: the page is shown as to a visitor."""
    from lms import create_app
    from tests.conftest import test_config

    gone = create_app(test_config(f"sqlite:///{embedded.path.parent}/missing/lms.sqlite3"))
    client = gone.test_client()
    client.set_cookie("session", embedded.client.get_cookie("session").value)
    page = client.get("/my-training")
    assert_clear_unavailable_page(page)
    assert "Log in" in page.get_data(as_text=True)
