"""Form discovery and hostile-value strategies shared by the fuzz tests.

The forms to fuzz are the ones the application offers: each role's pages are crawled
from its home page (links and redirects, a few pages per endpoint), and every form
found is kept with the page that showed it, its fields, the values it offered and its
CSRF token. Path parameters of the remaining routes are filled with real ids of
``hostile_world`` so that a request reaches the view rather than a 404.
"""

from __future__ import annotations

import re
import uuid
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from hypothesis import strategies as st
from werkzeug.exceptions import HTTPException

from tests.hostile.conftest import log_in, parse, rolled_back

#: Covered elsewhere: the JSON API by schemathesis (tests/api), LTI and cmi5 launches by
#: their own refusal tests. Their administration forms are fuzzed here.
SKIPPED_PREFIXES = ("/api/v1", "/lti/launch", "/lti/login", "/lti/continue", "/lti/deep-link")
SKIPPED_ENDPOINTS = {"cmi5.launch", "cmi5.session", "cmi5.exit_session"}

ROLES = ["anonymous", "learner", "trainer", "admin", "centre_admin"]

#: Strings that have broken web applications before: empty, NUL, numbers out of range,
#: impossible dates, markup, SQL, path tricks, right-to-left override, astral planes.
NASTY = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "0",
    "-1",
    "1.5",
    str(10**20),
    str(-(10**20)),
    "1e309",
    "NaN",
    "inf",
    "abc",
    "true",
    "on",
    "None",
    "null",
    "[]",
    "{}",
    "2026-02-30",
    "0000-00-00",
    "9999-12-31",
    "9999-12-31T23:59",
    "2026-13-01T25:61",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "../../../../etc/passwd",
    "%00",
    "%2e%2e%2f",
    "\u202egnp.exe",
    "\U0001f600" * 20,
    "\ud7ff\ufffd\uffff",
    "é" * 300,
    "x" * 10_000,
    "https://evil.example/",
    "//evil.example",
    "javascript:alert(1)",
    "=cmd|' /C calc'!A0",
    "a@example.org",
    "@",
    "\r\nSet-Cookie: x=1",
]

hostile_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=60),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.builds(lambda char, count: char * count, st.characters(), st.integers(200, 5000)),
)


def value_strategy(seen: list[str]) -> st.SearchStrategy[str]:
    """A value for a field: often one the form offered (to get past the first check),
    often a hostile one."""
    if not seen:
        return hostile_text
    return st.one_of(st.sampled_from(seen), hostile_text)


def form_strategy(fields: dict[str, list[str]]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Form data as (name, value) pairs: each known field missing, once or twice; extra
    fields with random names."""
    per_field = [
        st.lists(value_strategy(seen), max_size=2).map(
            lambda values, name=name: [(name, value) for value in values]
        )
        for name, seen in sorted(fields.items())
    ]
    extras = st.lists(st.tuples(st.text(min_size=1, max_size=20), hostile_text), max_size=2)
    return st.tuples(st.tuples(*per_field), extras).map(
        lambda parts: [pair for group in parts[0] for pair in group] + list(parts[1])
    )


#: Query parameters list pages commonly read.
QUERY_KEYS = [
    "page",
    "per_page",
    "sort",
    "order",
    "dir",
    "q",
    "search",
    "organisation",
    "org",
    "module",
    "cohort",
    "status",
    "state",
    "from",
    "to",
    "since",
    "until",
    "days",
    "lang",
    "next",
    "category",
    "sector",
    "format",
    "limit",
    "offset",
    "learner",
    "trainer",
    "type",
    "filter",
    "action",
    "actor",
    "endpoint",
]


def query_strategy(keys: list[str]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Query strings: the page's own filter names and the usual ones, hostile values."""
    names = st.one_of(st.sampled_from(keys), st.text(min_size=1, max_size=10))
    return st.lists(st.tuples(names, hostile_text), max_size=4)


def path_values(world: dict) -> dict[str, object]:
    """The value of each path parameter, by ``endpoint:name`` first, then by ``name``."""
    people = world["people"]
    learner = people["learner"].public_id
    return {
        "module_id": "alpha",
        "slug": world["lesson"].slug,
        "people.edit_organisation:slug": world["acme"].slug,
        "content_hash": world["content_hash"],
        "name": "cascade.svg",
        "public_id": learner,
        "quiz.attempt:public_id": world["open_attempt"].public_id,
        "quiz.save:public_id": world["open_attempt"].public_id,
        "quiz.result:public_id": world["passed_attempt"].public_id,
        "progress.correct:public_id": people["other_learner"].public_id,
        "learner_id": learner,
        "code": world["qualification"].code,
        "booking_id": world["booking"].id,
        "token_id": world["token"].id,
        "platform_id": world["platform"].id,
        "endpoint_id": world["endpoint"].id,
        "delivery_id": 1,
        "token": "x" * 43,
        "filename": "missing.css",
        "statement_id": uuid.uuid4(),
        "type_id": "grade-b-gowning",
        **{
            f"{endpoint}:public_id": world["cohort"].public_id
            for endpoint in (
                "dashboard.cohort",
                "dashboard.archive_cohort",
                "dashboard.add_member",
                "dashboard.remove_member",
                "dashboard.rename_cohort",
            )
        },
        **{
            f"{endpoint}:public_id": world["session"].public_id
            for endpoint in (
                "practicals.session",
                "practicals.book",
                "practicals.cancel_session",
                "practicals.edit_session",
                "practicals.check_in",
                "practicals.sign_off",
                "practicals.waiver",
                "dashboard.session_detail",
                "dashboard.session_csv",
            )
        },
    }


def routes(app, method: str) -> list[tuple[str, str]]:
    """(endpoint, rule) of every route answering ``method``, minus the skipped ones."""
    found = []
    for rule in app.url_map.iter_rules():
        if method not in rule.methods or rule.rule.startswith(SKIPPED_PREFIXES):
            continue
        if rule.endpoint in SKIPPED_ENDPOINTS:
            continue
        found.append((rule.endpoint, rule.rule))
    return sorted(found, key=lambda item: item[1])


def build_url(app, endpoint: str, rule: str, world: dict) -> str:
    values = path_values(world)
    (found,) = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule]
    arguments = {
        name: values.get(f"{endpoint}:{name}", values.get(name)) for name in found.arguments
    }
    missing = [name for name, value in arguments.items() if value is None]
    assert not missing, f"no value for {missing} of {rule}"
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **arguments)


def forms_on(html: str) -> list[tuple[str, str, dict[str, list[str]]]]:
    """(method, action, {field: values offered}) of every form of a page."""
    found: list[tuple[str, str, dict[str, list[str]]]] = []
    current: dict[str, list[str]] | None = None
    select: str | None = None
    for tag, attrs in parse(html).tags:
        attributes = dict(attrs)
        if tag == "form":
            current = {}
            method = (attributes.get("method") or "get").upper()
            found.append((method, urlsplit(attributes.get("action") or "").path, current))
        elif current is None:
            continue
        elif tag in ("input", "textarea", "select", "button") and attributes.get("name"):
            name = attributes["name"]
            current.setdefault(name, [])
            if attributes.get("value") is not None:
                current[name].append(attributes["value"])
            select = name if tag == "select" else select
        elif tag == "option" and select is not None:
            current[select].append(attributes.get("value") or "")
    return found


#: Pages that no link leads to but a person reaches: the log-in form's neighbours for
#: people without an account (the reset link comes by e-mail; the world issues one).
ANONYMOUS_SEEDS = ["/login", "/register", "/password/forgot"]
#: Not crawled: leaving the session, files, machine-to-machine protocols.
UNCRAWLED = ("/logout", "/static", "/api/v1", "/lti/launch", "/lti/login", "/cmi5", "/xapi/feed")
#: Pages visited per endpoint and role: enough to meet each state of a session or user.
PAGES_PER_ENDPOINT = 5
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class People:
    """One logged-in client per role, made on first use."""

    def __init__(self, make_client, world):
        self.make_client = make_client
        self.world = world
        self.clients = {}

    def __getitem__(self, role):
        if role not in self.clients:
            client = self.make_client()
            if role != "anonymous":
                log_in(client, self.world["people"][role])
            self.clients[role] = client
        return self.clients[role]


@dataclass
class Form:
    """A form as a page showed it to someone."""

    role: str
    page: str
    action: str
    fields: dict[str, list[str]]
    token: str | None
    #: The page as first shown, to tell a message the answer adds from one already there.
    html: str = field(repr=False, default="")


@dataclass
class Site:
    """What the crawl found: per POST endpoint the first form posting to it (roles in
    ``ROLES`` order), per GET endpoint the names of the filter fields its pages show."""

    posts: dict[str, Form] = field(default_factory=dict)
    filters: dict[str, set[str]] = field(default_factory=dict)
    pages: int = 0


def crawl(app, db, people: People, world: dict) -> Site:
    """Walk every role's pages (GET only, each in a rolled-back savepoint)."""
    adapter = app.url_map.bind("localhost")
    site = Site()
    for role in ROLES:
        seeds = ["/"] + (ANONYMOUS_SEEDS + [world["reset_path"]] if role == "anonymous" else [])
        _crawl_as(adapter, db, people[role], role, seeds, site)
    return site


def _endpoint(adapter, path: str, method: str) -> str | None:
    try:
        return adapter.match(path, method=method)[0]
    except HTTPException:
        return None


def _crawl_as(adapter, db, client, role: str, seeds: list[str], site: Site) -> None:
    queue, seen, visits = deque(seeds), set(), {}
    while queue:
        page = queue.popleft()
        endpoint = _endpoint(adapter, page, "GET")
        if page in seen or endpoint is None or visits.get(endpoint, 0) >= PAGES_PER_ENDPOINT:
            continue
        seen.add(page)
        visits[endpoint] = visits.get(endpoint, 0) + 1
        with rolled_back(db):
            response = client.get(page)
        site.pages += 1
        if response.status_code in (301, 302, 303):
            queue.append(urlsplit(response.headers["Location"]).path)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        html = response.get_data(as_text=True)
        token = TOKEN.search(html)
        for method, action, fields in forms_on(html):
            action = action or page
            if method == "GET":
                site.filters.setdefault(endpoint, set()).update(fields)
                continue
            target = _endpoint(adapter, action, "POST")
            if target is not None and target not in site.posts:
                fields.pop("csrf_token", None)
                site.posts[target] = Form(
                    role, page, action, fields, token and token.group(1), html
                )
        queue.extend(_links(html))


def _links(html: str) -> list[str]:
    found = []
    for tag, attributes in parse(html).tags:
        href = dict(attributes).get("href") if tag == "a" else None
        parts = urlsplit(href or "")
        if parts.scheme or parts.netloc or not parts.path.startswith("/"):
            continue
        if not parts.path.startswith(UNCRAWLED):
            found.append(parts.path)
    return found
