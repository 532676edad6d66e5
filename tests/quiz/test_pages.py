"""Quiz pages for every role, no answer key before submission, review modes."""

from __future__ import annotations

import copy
import re

import pytest
import sqlalchemy as sa

from lms.catalog.models import Module
from lms.quiz import services
from lms.quiz.models import Attempt
from tests.conftest import csrf_token, login
from tests.conftest import expect_outcome as expect
from tests.quiz.helpers import attempt_form

ROLES = ["anonymous", "learner", "trainer", "admin", "other_learner", "other_admin", "centre_admin"]


@pytest.fixture()
def attempt(db, loaded, world):
    alpha = db.session.get(Module, "alpha")
    started = services.start_attempt(world["learner"], alpha)
    db.session.commit()
    return started


# path, then: anon, learner, trainer, admin, other learner, other admin, centre admin
GETS = [
    ("/modules/alpha/quiz", ["login", 200, 200, 200, 200, 200, 200]),
    ("/modules/nowhere/quiz", ["login", 404, 404, 404, 404, 404, 404]),
    ("/attempts/{id}", ["login", 200, 404, 404, 404, 404, 404]),
    ("/attempts/{id}?layout=paged&page=3", ["login", 200, 404, 404, 404, 404, 404]),
    ("/attempts/{id}/result", ["login", 302, 404, 404, 404, 404, 404]),
    ("/attempts/00000000-0000-0000-0000-000000000000", ["login", 404, 404, 404, 404, 404, 404]),
]
POSTS = [
    ("/modules/alpha/quiz/start", ["login", 302, 403, 403, 302, 403, 403]),
    ("/modules/nowhere/quiz/start", ["login", 404, 404, 404, 404, 404, 404]),
    ("/attempts/{id}", ["login", 302, 404, 404, 404, 404, 404]),
]


@pytest.mark.parametrize("template,outcomes", GETS, ids=[g[0] for g in GETS])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_get_routes_by_role(attempt, as_role, template, outcomes, role_index):
    client = as_role(ROLES[role_index])
    expect(client.get(template.format(id=attempt.public_id)), outcomes[role_index])


@pytest.mark.parametrize("template,outcomes", POSTS, ids=[p[0] for p in POSTS])
@pytest.mark.parametrize("role_index", range(len(ROLES)), ids=ROLES)
def test_post_routes_by_role(db, attempt, as_role, template, outcomes, role_index):
    client = as_role(ROLES[role_index])
    token = csrf_token(client, "/login" if ROLES[role_index] == "anonymous" else "/modules/")
    path = template.format(id=attempt.public_id)
    expect(client.post(path, data={"csrf_token": token, "action": "submit"}), outcomes[role_index])
    db.session.expire_all()
    if ROLES[role_index] not in ("learner", "anonymous"):
        assert db.session.get(Attempt, attempt.id).state == "open"


def test_posts_without_csrf_token_are_refused(attempt, as_role):
    client = as_role("learner")
    assert (
        client.post(f"/attempts/{attempt.public_id}", data={"action": "submit"}).status_code == 400
    )
    assert client.post("/modules/alpha/quiz/start").status_code == 400


def _pages(client, attempt) -> str:
    """Every page of the attempt, both layouts, without the CSRF tokens."""
    html = [client.get(f"/attempts/{attempt.public_id}").get_data(as_text=True)]
    for page in range(len(attempt.draw)):
        path = f"/attempts/{attempt.public_id}?layout=paged&page={page}"
        html.append(client.get(path).get_data(as_text=True))
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", "\n".join(html))


def _other_keys(questions: list[dict]) -> list[dict]:
    changed = copy.deepcopy(questions)
    for q in changed:
        q["feedback"] = {"en": "CHANGED FEEDBACK"}
        if q["type"] == "single_choice":
            q["answer"] = next(o["id"] for o in q["options"] if o["id"] != q["answer"])
        elif q["type"] == "multiple_response":
            q["answer"] = [o["id"] for o in q["options"] if o["id"] not in q["answer"]][:1]
        elif q["type"] == "true_false":
            q["answer"] = not q["answer"]
        elif q["type"] == "numeric":
            q["answer"], q["tolerance"] = 123.25, 7
        elif q["type"] == "matching":
            q["answer"] = dict.fromkeys(q["answer"], "office")
        elif q["type"] == "ordering":
            q["items"] = list(reversed(q["items"]))
        elif q["type"] == "short_text":
            q["accepted"] = ["zzz"]
    return changed


def test_the_html_of_an_unsubmitted_attempt_contains_no_answer_key(db, attempt, as_role):
    """The pages of every question type are the same whatever the key: they carry none."""
    client = as_role("learner")
    version = attempt.version
    assert {q["type"] for q in version.questions} == {
        "single_choice",
        "multiple_response",
        "true_false",
        "numeric",
        "matching",
        "ordering",
        "short_text",
    }
    before = _pages(client, attempt)
    for q in version.questions:
        assert q["feedback"]["en"] not in before
    for text in ("first air", "premier air", "0.45", "0.09", "0.36", "0.54"):
        assert text not in before
    version.questions = _other_keys(version.questions)
    db.session.commit()
    assert _pages(client, attempt) == before


def test_saving_and_submitting_through_the_form(db, attempt, as_role):
    client = as_role("learner")
    questions = services.questions_of(attempt)
    token = csrf_token(client, f"/attempts/{attempt.public_id}")
    data = attempt_form(questions)
    data.update({"csrf_token": token, "action": "save"})
    assert client.post(f"/attempts/{attempt.public_id}", data=data).status_code == 302
    page = client.get(f"/attempts/{attempt.public_id}").get_data(as_text=True)
    assert "7 of 7 questions answered" in page
    response = client.post(
        f"/attempts/{attempt.public_id}", data={"csrf_token": token, "action": "submit"}
    )
    assert response.headers["Location"].endswith(f"/attempts/{attempt.public_id}/result")
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "passed" in result and "100 %" in result
    assert "Your certificate" in result


def test_paged_layout_saves_the_page_and_moves_on(db, attempt, as_role):
    client = as_role("learner")
    first = services.questions_of(attempt)[0]
    token = csrf_token(client, f"/attempts/{attempt.public_id}?layout=paged")
    data = attempt_form([first])
    data.update({"csrf_token": token, "action": "next", "layout": "paged", "page": "0"})
    response = client.post(f"/attempts/{attempt.public_id}", data=data)
    assert response.headers["Location"].endswith("layout=paged&page=1")
    assert services.saved_responses(attempt)[first["id"]] is not None


def test_autosave_answers_json(db, attempt, as_role):
    client = as_role("learner")
    first = services.questions_of(attempt)[0]
    token = csrf_token(client, f"/attempts/{attempt.public_id}")
    data = attempt_form([first])
    data.update({"csrf_token": token, "action": "save"})
    response = client.post(
        f"/attempts/{attempt.public_id}", data=data, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200 and response.json == {"saved": True}


@pytest.mark.parametrize("mode", ["score", "wrong", "full"])
def test_review_follows_the_module_setting(db, attempt, as_role, mode):
    version = attempt.version
    version.quiz_settings = {**version.quiz_settings, "review": mode}
    db.session.commit()
    client = as_role("learner")
    questions = services.questions_of(attempt)
    right = {q["id"] for q in questions if q["type"] != "true_false"}
    token = csrf_token(client, f"/attempts/{attempt.public_id}")
    data = attempt_form(questions, right)
    data.update({"csrf_token": token, "action": "submit"})
    client.post(f"/attempts/{attempt.public_id}", data=data)
    html = client.get(f"/attempts/{attempt.public_id}/result").get_data(as_text=True)
    assert "Your score: 86 %" in html
    truth = next(q for q in questions if q["type"] == "true_false")
    if mode == "score":
        assert "Question " not in html and "Yes." not in html
    elif mode == "wrong":
        assert html.count("<article") == 1 and truth["prompt"]["en"] in html
        assert "Correct answer" not in html and "Yes." not in html
    else:
        assert html.count("<article") == 7
        assert "Correct answer" in html and "Yes." in html and "Because A." in html


def test_other_learners_never_see_an_attempt(db, attempt, world, make_client):
    other = make_client()
    assert login(other, world["other_learner"]).status_code == 302
    for path in ("", "/result"):
        assert other.get(f"/attempts/{attempt.public_id}{path}").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Attempt.id))) == 1
