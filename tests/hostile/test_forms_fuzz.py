"""Every form and page of the application, fed hostile input: never a server error.

The forms are the ones the application shows: each role's pages are crawled (see
``fuzzing.crawl``) and every POST route must be offered by some page to someone. The
person shown the form sends hypothesis-generated data with the page's CSRF token, and
the same form without a token. Each GET route is opened by every role with random query
strings, its own filter names among them. A refusal (4xx) is a page saying what went
wrong, never a bare status; a redirect stays on this site; a form sent back to be
corrected says what to correct. Each example runs in a savepoint rolled back
afterwards, so no example sees another's changes.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from tests.conftest import csrf_token
from tests.hostile.conftest import HEALTH, log_in, rolled_back, visible_text
from tests.hostile.fuzzing import (
    QUERY_KEYS,
    ROLES,
    Form,
    People,
    build_url,
    crawl,
    form_strategy,
    forms_on,
    query_strategy,
    routes,
)

#: Fixed for CI: the same examples on every run. No shrinking: a failing example is
#: reported as found (with its route and role), so a regression stays cheap to report.
POST_BUDGET = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[getattr(HealthCheck, name) for name in HEALTH],
)
GET_BUDGET = settings(POST_BUDGET, max_examples=6)

#: Values sent in every field of every form, one field at a time: a NUL (PostgreSQL
#: refuses it), a long text, a number past 64 bits, a negative one, an impossible date,
#: markup, nothing.
SHARP = ["\x00", "x" * 10_000, str(10**20), "-1", "2026-02-30", "<script>alert(1)</script>", ""]
#: Marks of a message about a form: the error summary, a field's error, an error flash.
ERROR_MARKS = ('class="error-summary"', 'class="error"', 'aria-invalid="true"', "message-error")


def assert_answered(response, what: str, form: Form | None = None) -> None:
    """No server error; a refusal is a page with a message a person can read; a redirect
    stays on this site; a form given back to correct carries its message."""
    assert response.status_code < 500, f"{what}: {response.status_code}"
    html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
    if response.status_code >= 400 and html:
        text = visible_text(html)
        assert len(text) > 40, f"{what}: {response.status_code} without a message: {text!r}"
    if response.status_code in (301, 302, 303, 307, 308):
        location = response.headers["Location"]
        target = urlsplit(location)
        on_site = target.netloc in ("", "localhost") and target.path.startswith("/")
        assert on_site and not location.startswith(("//", "/\\")), (
            f"{what}: sent off site to {location!r}"
        )
    if form is not None and response.status_code == 200 and html:
        again = [action or form.action for method, action, _ in forms_on(html) if method == "POST"]
        if form.action in again and form.fields:
            new = [mark for mark in ERROR_MARKS if mark in html and mark not in form.html]
            assert new, f"{what}: the form came back without saying what to correct"


def sharp_examples(fields: dict[str, list[str]]):
    """The form as offered, with one field at a time set to each of the ``SHARP`` values."""
    offered = [(name, values[0] if values else "") for name, values in sorted(fields.items())]
    for name in sorted(fields):
        for value in SHARP:
            yield [(other, value if other == name else kept) for other, kept in offered]


def fuzz_post(db, client, form: Form) -> None:
    """Each field once with each sharp value, then the random examples of the budget."""
    cookie = client.get_cookie("session")

    def send(data):
        with rolled_back(db):
            response = client.post(form.action, data=MultiDict([*data, ("csrf_token", form.token)]))
        if cookie is not None:  # a log-out, or a password changed, ends no later example
            client.set_cookie("session", cookie.value)
        assert_answered(response, f"POST {form.action} as {form.role} with {data!r:.300}", form)

    for data in sharp_examples(form.fields):
        send(data)
    POST_BUDGET(given(data=form_strategy(form.fields))(send))()


def assert_refuses_without_token(db, client, form: Form) -> None:
    """A form sent without its CSRF token is refused with 400 and says why."""
    fields = [(name, values[0] if values else "") for name, values in form.fields.items()]
    with rolled_back(db):
        response = client.post(form.action, data=MultiDict(fields))
    what = f"POST {form.action} as {form.role} without a CSRF token"
    assert response.status_code == 400, f"{what}: {response.status_code}"
    assert "expired" in visible_text(response.get_data(as_text=True)), f"{what}: no message"


def fuzz_get(db, client, url: str, role: str) -> None:
    cookie = client.get_cookie("session")
    with rolled_back(db):
        first = client.get(url)
    filters = set()
    if first.mimetype == "text/html":
        for method, _action, fields in forms_on(first.get_data(as_text=True)):
            filters.update(fields if method == "GET" else ())
    keys = sorted(filters) + QUERY_KEYS

    @GET_BUDGET
    @given(query=query_strategy(keys), page=st.sampled_from([url, url + "/", url + "%00"]))
    def get(query, page):
        if cookie is not None:
            client.set_cookie("session", cookie.value)
        with rolled_back(db):
            response = client.get(page, query_string=query)
        assert_answered(response, f"GET {page} as {role} with {query!r:.300}")

    get()


def test_every_form_survives_hostile_input(app, db, hostile_world, make_client):
    people = People(make_client, hostile_world)
    site = crawl(app, db, people, hostile_world)
    posts = [endpoint for endpoint, _rule in routes(app, "POST")]
    assert len(posts) > 50, posts
    unoffered = sorted(set(posts) - set(site.posts))
    assert not unoffered, f"no page offers a form posting to {unoffered}"
    failures = []
    for endpoint in posts:
        form = site.posts[endpoint]
        try:
            assert_refuses_without_token(db, people[form.role], form)
            fuzz_post(db, people[form.role], form)
        except AssertionError as error:
            failures.append(f"{endpoint}: {str(error).splitlines()[0]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_survives_hostile_query_strings(app, db, hostile_world, make_client, role):
    client = People(make_client, hostile_world)[role]
    failures = []
    for endpoint, rule in routes(app, "GET"):
        url = build_url(app, endpoint, rule, hostile_world)
        try:
            fuzz_get(db, client, url, role)
        except AssertionError as error:
            failures.append(str(error).splitlines()[0])
    assert not failures, "\n".join(failures)


def test_a_nul_character_anywhere_is_refused_with_a_message(client, db, hostile_world):
    """PostgreSQL refuses NUL in every string: found by the fuzzing as a 500 on each page
    taking an id, filter or form field. Now a 400 that says why, and nothing changed."""
    learner = hostile_world["people"]["learner"]
    log_in(client, learner)
    token = csrf_token(client, "/account")
    name = learner.display_name
    for response in (
        client.get("/modules/alpha%00"),
        client.get("/modules/alpha/lessons/first\x00"),
        client.get("/practicals/", query_string={"type": "a\x00b"}),
        client.get("/my-training", query_string={"x\x00": "1"}),
        client.post("/account", data={"csrf_token": token, "display_name": "Eve\x00"}),
        client.post(
            "/account",
            data=MultiDict([("csrf_token", token), ("language", "en"), ("language", "\x00")]),
        ),
    ):
        assert response.status_code == 400, response.request.url
        assert "NUL character" in visible_text(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(type(learner), learner.id).display_name == name
