"""Hostile-input fixtures: a realistic world to aim at, and the helpers every fuzz test uses.

The world holds two organisations and a centre with their people, the catalog's test
packages loaded (and a copy, retired), practical sessions in each state a form depends
on (bookable, booked by an ineligible learner, running with one learner to check in and
one to sign off), an open and a submitted quiz attempt with the qualification it issued,
a cohort with a member, LRS endpoints running and paused (with a parked statement), LTI
platforms enabled (with a refused score) and disabled, an API token, a deactivated
account, a password-reset link and a real SMTP server: every form the application can
show is shown to someone, and every id a route can take has a real value to put in it.
"""

from __future__ import annotations

import shutil
import uuid
from contextlib import contextmanager
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from lms.db_types import utcnow
from tests.auth.conftest import mailbox, smtp_server  # noqa: F401 (fixtures used below)
from tests.catalog.conftest import PACKAGES
from tests.conftest import login
from tests.practicals.conftest import load_types

#: Suppressed health checks: the world is built once per test, not per example.
HEALTH = ["function_scoped_fixture", "too_slow", "data_too_large", "filter_too_much"]


def _drill_type(db):
    """A practical type without prerequisites: every learner may book it."""
    from lms.practicals.models import PracticalType

    drill = PracticalType(
        id="evacuation-drill",
        title={"en": "Clean-room evacuation drill", "fr": "Exercice d'évacuation"},
        summary={"en": "Leave the clean room safely.", "fr": "Quitter la salle propre."},
        room_kind="clean-room-grade-b",
        duration_minutes=60,
        default_capacity=6,
        prerequisites={"all_of": []},
        content_hash="0" * 64,
    )
    db.session.add(drill)
    return drill


def _sessions(db, acme, people, now):
    """The gowning session the learner booked without the prerequisites (a waiver to
    give), a drill open for booking, and a drill starting within the hour whose roster
    has the learner to check in and another learner checked in, to sign off."""
    from lms.practicals import running, sessions
    from lms.practicals.models import Booking, PracticalType

    drill = _drill_type(db)

    def schedule(practical_type, starts_in):
        return sessions.create_session(
            practical_type=practical_type,
            organisation=acme,
            starts_at=now + starts_in,
            room="Clean room 2",
            trainer=people["trainer"],
            capacity=None,
            by=people["trainer"],
            now=now,
        )

    gowning = schedule(db.session.get(PracticalType, "grade-b-gowning"), timedelta(days=5))
    bookable = schedule(drill, timedelta(days=6))
    running_now = schedule(drill, timedelta(hours=1))
    db.session.flush()
    seats = {}
    for position, (session, role) in enumerate(
        [(gowning, "learner"), (running_now, "learner"), (running_now, "other_learner")], 1
    ):
        seat = Booking(session_id=session.id, learner_id=people[role].id, state="booked")
        seat.position = position
        db.session.add(seat)
        seats[session.id, role] = seat
    db.session.flush()
    running.check_in(running_now, people["other_learner"], by=people["trainer"], now=now)
    return {
        "session": gowning,
        "booking": seats[gowning.id, "learner"],
        "bookable_session": bookable,
        "running_session": running_now,
    }


def _qualified_attempt(db, learner, alpha, now):
    """A submitted, passed attempt of ``learner`` and the qualification it issued."""
    from lms.progress.models import Qualification
    from lms.quiz.models import Attempt

    passed = Attempt(
        user_id=learner.id,
        module_id="alpha",
        version_id=alpha.current_version_id,
        registration=str(uuid.uuid4()),
        number=1,
        started_at=now - timedelta(minutes=20),
        submitted_at=now - timedelta(minutes=10),
        state="submitted",
        draw=[],
        score_raw=9,
        score_max=10,
        score_scaled=0.9,
        passed=True,
    )
    db.session.add(passed)
    db.session.flush()
    qualification = Qualification(
        kind="pass",
        user_id=learner.id,
        module_id="alpha",
        version_id=alpha.current_version_id,
        attempt_id=passed.id,
        score_scaled=0.9,
        issued_at=now - timedelta(minutes=10),
        valid_until=now + timedelta(days=365),
    )
    db.session.add(qualification)
    return passed, qualification


def _endpoints(acme):
    """A running LRS endpoint and one paused after refusing the credentials."""
    from lms.xapi import services as xapi_services

    endpoint = xapi_services.create_endpoint(
        organisation=acme, name="Acme LRS", url="http://127.0.0.1:9/xapi", key="k", secret="s"
    )
    paused = xapi_services.create_endpoint(
        organisation=acme, name="Acme archive", url="http://127.0.0.1:9/arch", key="k", secret="s"
    )
    return endpoint, paused


def _park_deliveries(db, paused, now):
    """Pause the endpoint and park what it was owed, as a 401 and a 400 would."""
    import sqlalchemy as sa

    from lms.xapi.models import StatementDelivery

    paused.paused_reason, paused.paused_at = "HTTP 401: credentials refused", now
    deliveries = db.session.scalars(
        sa.select(StatementDelivery).where(StatementDelivery.endpoint_id == paused.id)
    ).all()
    assert deliveries, "the check-in wrote a statement owed to every endpoint"
    for delivery in deliveries:
        delivery.state, delivery.parked_at = "parked", now
        delivery.last_error = "HTTP 400: statement refused"
    return deliveries[0]


def _platforms(db, acme, admin, learner, attempt, now):
    """An LTI platform with a score it refused, and a disabled one."""
    from lms.lti import services as lti_services
    from lms.lti.models import Identity, LinkMember, ResourceLink, ScorePost

    def register(name, issuer):
        return lti_services.register_platform(
            organisation=acme,
            deployment_ids=["1"],
            name=name,
            issuer=issuer,
            client_id="client-1",
            auth_login_url=f"{issuer}/mod/lti/auth.php",
            auth_token_url=f"{issuer}/mod/lti/token.php",
            keyset_url=f"{issuer}/mod/lti/certs.php",
        )

    platform = register("Acme Moodle", "https://moodle.acme.example.org")
    disabled = register("Acme old Moodle", "https://old-moodle.acme.example.org")
    lti_services.set_enabled(disabled, False, by=admin)
    link = ResourceLink(
        platform_id=platform.id, deployment_id="1", link_id="link-1", module_id="alpha"
    )
    identity = Identity(
        issuer=platform.issuer, subject="s-1", user_id=learner.id, platform_id=platform.id
    )
    member = LinkMember(link=link, user_id=learner.id, identity=identity)
    db.session.add_all([link, identity, member])
    db.session.flush()
    score = ScorePost(
        link=link,
        member=member,
        attempt_id=attempt.id,
        score_given=9.0,
        score_maximum=10.0,
        scored_at=now,
        status="failed",
        last_error="HTTP 400",
    )
    db.session.add(score)
    return platform, disabled


@pytest.fixture()
def hostile_world(db, make_org, make_user, centre, tmp_path, mailbox):  # noqa: F811
    """Everything a route can point at; ids are read before any request is made."""
    from lms.api import services as api_services
    from lms.auth import resets
    from lms.catalog import services as catalog_services
    from lms.catalog.models import Module
    from lms.catalog.sync import sync_packages
    from lms.dashboard.cohorts import add_member, create_cohort
    from lms.quiz import services as quiz_services

    load_types(db)
    root = tmp_path / "modules"
    shutil.copytree(PACKAGES / "good", root)
    # A third module, retired below: its page offers to enable it again.
    shutil.copytree(root / "alpha", root / "gamma")
    manifest = root / "gamma" / "module.yaml"
    manifest.write_text(manifest.read_text().replace("id: alpha", "id: gamma"))
    sync_packages(root)
    db.session.commit()
    acme = make_org("Acme Pharma")
    acme.self_registration = True
    other = make_org("Other Chemicals")
    people = {
        "learner": make_user("learner", acme),
        "other_learner": make_user("learner", acme),
        "trainer": make_user("trainer", acme),
        "admin": make_user("admin", acme),
        "inactive_learner": make_user("learner", acme),
        "forgetful_learner": make_user("learner", acme),
        "foreign_learner": make_user("learner", other),
        "foreign_admin": make_user("admin", other),
        "centre_admin": make_user("admin", centre),
        "centre_trainer": make_user("trainer", centre),
    }
    people["inactive_learner"].active = False
    now = utcnow()
    endpoint, paused = _endpoints(acme)
    alpha = db.session.get(Module, "alpha")
    catalog_services.set_status(
        db.session.get(Module, "gamma"), "retired", by=people["centre_admin"]
    )
    open_attempt = quiz_services.start_attempt(people["learner"], alpha)
    passed, qualification = _qualified_attempt(db, people["other_learner"], alpha, now)
    practicals = _sessions(db, acme, people, now)
    parked = _park_deliveries(db, paused, now)
    cohort = create_cohort(acme, "Night shift", by=people["admin"])
    add_member(cohort, people["other_learner"].public_id, by=people["admin"])
    platform, disabled = _platforms(db, acme, people["admin"], people["other_learner"], passed, now)
    token = api_services.create_token(
        organisation=acme, name="HR sync", scope="read", expires_at=None, by=None, now=now
    )
    reset = resets.create_link(people["forgetful_learner"], by=people["admin"])
    db.session.commit()
    return {
        "acme": acme,
        "other": other,
        "centre": centre,
        "people": people,
        **practicals,
        "open_attempt": open_attempt,
        "passed_attempt": passed,
        "qualification": qualification,
        "cohort": cohort,
        "endpoint": endpoint,
        "paused_endpoint": paused,
        "parked_delivery": parked,
        "platform": platform,
        "disabled_platform": disabled,
        "token": token.token,
        "reset_path": urlsplit(reset.url).path,
        "lesson": alpha.current_version.lessons[0],
        "alpha": alpha,
        "content_hash": alpha.current_version.content_hash,
        "root": root,
        "mailbox": mailbox,
    }


def log_in(client, user):
    response = login(client, user)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


@contextmanager
def rolled_back(db):
    """Run requests inside a savepoint of the test's connection, undone afterwards, so one
    example's changes (a deactivated admin, a cancelled session) never reach the next."""
    connection = db.session.connection()
    savepoint = connection.begin_nested()
    try:
        yield
    finally:
        savepoint.rollback()
        db.session.expire_all()


class Tags(HTMLParser):
    """Collects every start tag with its attributes, and the visible text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    parser.close()
    return parser


def visible_text(html: str) -> str:
    """The text of a page a person reads (no markup), whitespace collapsed."""
    return " ".join(" ".join(parse(html).text).split())
