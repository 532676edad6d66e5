"""The simulated people of the load test (``bench/load/run.py`` starts locust on this file).

Learners log in (each simulated learner its own account), list the modules, open GMP
fundamentals, read its lessons one after the other (the "mark as read" button of each,
which leads to the next), take the quiz (the attempt form's questions answered from the
module's question bank, each right with probability ``RIGHT``, so most pass and some
fail), look at My training and the practical sessions, and book a seat of a session
that offers one (a pass of GMP fundamentals makes them eligible). Then, until the run
ends, they come back to lessons, their training, the sessions, the catalogue and the
quiz page. Trainers log in and look at their dashboards: the matrix, the expiring
qualifications, the module results, the upcoming sessions and the training report.
Between two pages each person waits ``LOAD_WAIT_MIN``..``LOAD_WAIT_MAX`` seconds.

Requests do not follow redirects: a form's POST is timed alone and must answer with a
redirect to the page it leads to (a redirect to the log-in page, or anywhere else, is
an error), and that page is then requested as a browser would, timed as itself. A GET
must answer 200 itself. So every figure is one request's, and an error names the page.

``BaselineUser`` loads the bare Flask app of ``bench/_common.py`` the same way (a page
of one row, an insert), so that both figures come from the same tool and load shape.

Environment (set by run.py): ``LOAD_PASSWORD`` (every account's password),
``LOAD_BANK`` (a JSON file: the question bank of GMP fundamentals, to answer the
questions drawn), ``LOAD_LESSONS`` (the lesson slugs in order, comma-separated).
"""

from __future__ import annotations

import html
import itertools
import json
import os
import random
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task
from urllib3.util.retry import Retry

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.quiz.helpers import answer_fields  # noqa: E402

MODULE = "gmp-fundamentals"
PASSWORD = os.environ.get("LOAD_PASSWORD", "")
BANK: dict[str, dict] = {}
if os.environ.get("LOAD_BANK"):
    BANK = {q["id"]: q for q in json.loads(Path(os.environ["LOAD_BANK"]).read_text())}
LESSONS = [s for s in os.environ.get("LOAD_LESSONS", "").split(",") if s]
WAIT = between(
    float(os.environ.get("LOAD_WAIT_MIN", "2")), float(os.environ.get("LOAD_WAIT_MAX", "8"))
)
#: Chance that a learner answers a question right (pass mark 80 % of 15: about 80 % pass).
RIGHT = 0.85

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
SHOWN = re.compile(r'name="shown" value="([^"]+)"')
BOOK = re.compile(r'action="(/practicals/sessions/[^"/]+/book)"')
ERROR_MESSAGE = re.compile(r'<p class="message message-error">(.*?)</p>', re.S)
LESSON_PAGE = "/modules/[module]/lessons/[slug]"

_learners = itertools.count()
_trainers = itertools.count()
#: Requests sent a second time after the connection was reset, by request name.
RESENT: dict[str, int] = {}
#: A browser sends a request again, once, when the keep-alive connection it reused turns
#: out to be closed by the server before any answer (gunicorn closes connections idle for
#: its keep-alive time, 5 s, and one it closes just as a request arrives is reset).
#: Without it the simulated people, who wait 2-8 s between pages, would report those
#: races as errors that no person would see. Each resend is counted and reported.
RESEND_ONCE = Retry(
    total=1, connect=1, read=1, status=0, other=0, redirect=False, allowed_methods=None
)


def csrf(text: str) -> str:
    match = CSRF.search(text)
    return match.group(1) if match else ""


def _count_resent(response, name: str) -> None:
    retries = getattr(getattr(response, "raw", None), "retries", None)
    if retries is not None and retries.history:
        RESENT[name] = RESENT.get(name, 0) + len(retries.history)


def _status(response) -> str:
    """What went wrong: the status and where it redirects, or the connection's error."""
    if not response.status_code:
        return f"no answer: {response.error!r}"
    where = response.headers.get("Location", "")
    return f"status {response.status_code} {where}".strip()


@events.test_stop.add_listener
def _write_notes(**_kwargs) -> None:
    if os.environ.get("LOAD_NOTES"):
        Path(os.environ["LOAD_NOTES"]).write_text(json.dumps({"resent": RESENT}))


class Person(HttpUser):
    abstract = True
    wait_time = WAIT
    email = ""

    def on_start(self) -> None:
        for adapter in self.client.adapters.values():
            adapter.max_retries = RESEND_ONCE

    def page(self, path: str, name: str | None = None) -> str | None:
        """GET a page that must answer 200 itself (no redirect, to the log-in or elsewhere);
        a flashed error message on it is an error too. Returns the page's text (None when
        it failed: the person cannot go on from it)."""
        name = name or path
        with self.client.get(
            path, name=name, allow_redirects=False, catch_response=True
        ) as response:
            _count_resent(response, name)
            text = response.text or ""
            if response.status_code != 200:
                response.failure(_status(response))
                return None
            if message := ERROR_MESSAGE.search(text):
                response.failure(f"error shown: {html.unescape(message.group(1)).strip()}")
                return None
            return text

    def submit(self, path: str, data, name: str, leads_to: str) -> str | None:
        """POST a form; it must redirect to a path starting with ``leads_to``. Returns the
        path it redirects to (None when it did not)."""
        with self.client.post(
            path, data=data, name=name, allow_redirects=False, catch_response=True
        ) as response:
            _count_resent(response, name)
            target = urlsplit(response.headers.get("Location", ""))
            location = target.path + (f"?{target.query}" if target.query else "")
            if response.status_code not in (302, 303):
                response.failure(_status(response))
            elif not target.path.startswith(leads_to):
                response.failure(f"redirected to {location}, not {leads_to}")
            else:
                return location
        return None

    def log_in(self) -> None:
        form = self.page("/login")
        if form is None:
            return
        home = self.submit(
            "/login",
            {"csrf_token": csrf(form), "email": self.email, "password": PASSWORD},
            name="/login [POST]",
            leads_to="/",
        )
        if home is not None and home.startswith("/login"):
            home = None  # submit() accepts "/": a refused log-in goes back to /login
        if home is not None:
            self.page(home)


class LearnerUser(Person):
    """A learner working through GMP fundamentals, then coming back to it."""

    weight = 40

    def on_start(self) -> None:
        super().on_start()
        self.email = f"learner{next(_learners)}@example.org"
        self.log_in()
        self.journey_done = False

    @task
    def work(self) -> None:
        if not self.journey_done:
            self.journey_done = True
            self.journey()
        else:
            self.revisit()

    def journey(self) -> None:
        """The first visit: from the catalogue to a booked seat. It stops where a page
        fails (without that page there is no form to go on with); revisits follow."""
        if self.page("/modules/") is None:
            return
        self.wait()
        if self.page(f"/modules/{MODULE}", name="/modules/[module]") is None:
            return
        self.wait()
        if not self.read_lessons() or not self.take_quiz():
            return
        self.wait()
        if self.page("/my-training") is None:
            return
        self.wait()
        self.book()

    def read_lessons(self) -> bool:
        """Each lesson, then its "mark as read" button, which leads to the next."""
        path = f"/modules/{MODULE}/lessons/{LESSONS[0]}"
        for number, slug in enumerate(LESSONS):
            text = self.page(path, name=LESSON_PAGE)
            if text is None:
                return False
            self.wait()
            following = LESSONS[number + 1] if number + 1 < len(LESSONS) else ""
            fields = {"csrf_token": csrf(text)}
            if following:
                fields["next_lesson"] = following
            path = self.submit(
                f"/modules/{MODULE}/lessons/{slug}/read",
                fields,
                name="/modules/[module]/lessons/[slug]/read [POST]",
                leads_to=f"/modules/{MODULE}/lessons/{following or slug}",
            )
            if path is None:
                return False
        if self.page(path, name=LESSON_PAGE) is None:  # the last one, "marked as read"
            return False
        self.wait()
        return True

    def take_quiz(self) -> bool:
        """Start an attempt, answer the questions drawn, submit, read the result."""
        overview = self.page(f"/modules/{MODULE}/quiz", name="/modules/[module]/quiz")
        if overview is None:
            return False
        self.wait()
        attempt = self.submit(
            f"/modules/{MODULE}/quiz/start",
            {"csrf_token": csrf(overview)},
            name="/modules/[module]/quiz/start [POST]",
            leads_to="/attempts/",
        )
        if attempt is None:
            return False
        form = self.page(attempt, name="/attempts/[id]")
        if form is None:
            return False
        self.wait()  # answering takes a while
        ids = SHOWN.findall(form)
        fields = [("csrf_token", csrf(form)), ("layout", "all"), ("page", "0")]
        for qid in ids:
            fields.append(("shown", qid))
            fields += answer_fields(BANK[qid], right=random.random() < RIGHT)
        fields.append(("action", "submit"))
        result = self.submit(
            attempt, fields, name="/attempts/[id] [POST submit]", leads_to=f"{attempt}/result"
        )
        if result is None:
            return False
        return self.page(result, name="/attempts/[id]/result") is not None

    def book(self) -> None:
        """A seat in one of the sessions offered (none when the quiz was failed)."""
        text = self.page("/practicals/")
        offered = BOOK.findall(text or "")
        if not offered:
            return
        self.wait()
        back = self.submit(
            random.choice(offered),
            {"csrf_token": csrf(text)},
            name="/practicals/sessions/[id]/book [POST]",
            leads_to="/practicals/",
        )
        if back is not None:
            # The flash says booked or waiting list; an error message here is a refusal.
            self.page(back, name="/practicals/ [after booking]")

    def revisit(self) -> None:
        choice = random.random()
        if choice < 0.45 and LESSONS:
            slug = random.choice(LESSONS)
            self.page(f"/modules/{MODULE}/lessons/{slug}", name=LESSON_PAGE)
        elif choice < 0.6:
            self.page("/my-training")
        elif choice < 0.75:
            self.page("/practicals/")
        elif choice < 0.85:
            self.page("/modules/")
        elif choice < 0.95:
            self.page(f"/modules/{MODULE}", name="/modules/[module]")
        else:
            self.page(f"/modules/{MODULE}/quiz", name="/modules/[module]/quiz")


class TrainerUser(Person):
    """A trainer of the learners' organisation looking at the dashboards."""

    fixed_count = 5

    def on_start(self) -> None:
        super().on_start()
        self.email = f"trainer{next(_trainers)}@example.org"
        self.log_in()

    @task(3)
    def matrix(self) -> None:
        self.page("/dashboard/")

    @task(2)
    def expiring(self) -> None:
        self.page("/dashboard/expiring")

    @task(2)
    def module_results(self) -> None:
        self.page(f"/dashboard/modules/{MODULE}", name="/dashboard/modules/[module]")

    @task(2)
    def sessions(self) -> None:
        self.page("/dashboard/sessions")

    @task(1)
    def report(self) -> None:
        self.page("/dashboard/report")


class BaselineUser(HttpUser):
    """The bare Flask app of bench/_common.py: a page of one row, and one insert."""

    wait_time = WAIT

    def on_start(self) -> None:
        for adapter in self.client.adapters.values():
            adapter.max_retries = RESEND_ONCE

    @task(9)
    def row(self) -> None:
        self.client.get(f"/rows/{random.randint(1, 100)}", name="baseline /rows/[id]")

    @task(1)
    def insert(self) -> None:
        self.client.post(
            "/rows", data={"name": "load", "body": "a row"}, name="baseline /rows [POST]"
        )
