"""Who can take each upcoming session (booked, waiting, eligible, not yet) and who is held
back only by an expired qualification: the pages, their CSV exports, French."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
import sqlalchemy as sa

from lms.catalog.models import Module
from lms.dashboard import cohorts
from lms.db_types import utcnow
from lms.practicals import booking, running, sessions
from lms.practicals.models import PracticalType, Waiver
from lms.progress.models import Qualification

#: Practical types over the test modules: alpha valid; alpha valid and beta >= 80 %;
#: students only, with alpha valid; alpha valid, or a high alpha pass within 24 months.
LABS = {
    "alpha-lab": {"all_of": [{"qualification_valid": {"module": "alpha"}}]},
    "beta-lab": {
        "all_of": [
            {"qualification_valid": {"module": "alpha"}},
            {"qualification_valid": {"module": "beta", "min_score": 0.8}},
        ]
    },
    "students-lab": {
        "all_of": [
            {"learner_category": {"in": ["student"]}},
            {"qualification_valid": {"module": "alpha"}},
        ]
    },
    "either-lab": {
        "any_of": [
            {"qualification_valid": {"module": "alpha"}},
            {"module_passed": {"module": "alpha", "min_score": 0.9, "within_months": 24}},
        ]
    },
}
TITLES = {
    "alpha-lab": {"en": "Alpha bench practical", "fr": "Pratique alpha au banc"},
    "beta-lab": {"en": "Beta line practical", "fr": "Pratique bêta en ligne"},
    "students-lab": {"en": "Students' workshop", "fr": "Atelier des étudiants"},
    "either-lab": {"en": "Either-way practical", "fr": "Pratique au choix"},
}


@pytest.fixture()
def labs(db, loaded):
    for type_id, rule in LABS.items():
        db.session.add(
            PracticalType(
                id=type_id,
                title=TITLES[type_id],
                summary={"en": "A practical.", "fr": "Une pratique."},
                room_kind="laboratory",
                duration_minutes=120,
                default_capacity=2,
                prerequisites=rule,
                content_hash="0" * 64,
            )
        )
    db.session.commit()
    return LABS


@pytest.fixture()
def grant(db):
    """``grant(learner, "alpha", score=0.9, issued_days_ago=1, valid_days=365)``: a pass,
    written as the progress feature writes it."""

    def add(learner, module_id, *, score=0.9, issued_days_ago=1, valid_days=365, commit=True):
        issued = utcnow() - timedelta(days=issued_days_ago)
        module = db.session.get(Module, module_id)
        db.session.add(
            Qualification(
                kind="pass",
                user_id=learner.id,
                module_id=module_id,
                version_id=module.current_version_id,
                score_scaled=score,
                issued_at=issued,
                valid_until=issued + timedelta(days=valid_days),
            )
        )
        if commit:
            db.session.commit()

    return add


@pytest.fixture()
def schedule(db, labs):
    """``schedule(trainer, "alpha-lab", days=5, capacity=2)``: a session of the trainer's
    organisation, scheduled through the practicals service."""

    def add(trainer, type_id="alpha-lab", *, days=5, capacity=2, org=None):
        session = sessions.create_session(
            practical_type=db.session.get(PracticalType, type_id),
            organisation=org or trainer.organisation,
            starts_at=utcnow() + timedelta(days=days),
            room="Lab 3",
            trainer=trainer,
            capacity=capacity,
            by=trainer,
            now=utcnow(),
        )
        db.session.commit()
        return session

    return add


def section(html: str, heading_id: str) -> str:
    """The HTML of the page's section labelled by ``heading_id``."""
    match = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, f"no section {heading_id}"
    return match.group(0)


def row(html: str, learner) -> str:
    """The table row of ``learner`` in ``html``."""
    match = re.search(rf'<tr data-learner="{learner.public_id}".*?</tr>', html, re.S)
    assert match, f"no row for {learner.display_name}"
    return match.group(0)


def learners_in(html: str) -> list[str]:
    return re.findall(r'<tr data-learner="([^"]+)"', html)


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture()
def roster(db, world, make_user, grant, schedule):
    """An Acme session of alpha-lab with two seats: Ann (checked in) and Ben booked, Cat
    and Dan waiting, Eve eligible without booking, Fay and Hal never passed alpha, Gus's
    pass ends before the session; Other's Olga passed alpha too."""
    acme = world["learner"].organisation
    people = {
        name: make_user("learner", acme, display_name=name)
        for name in ("Ann", "Ben", "Cat", "Dan", "Eve", "Fay", "Gus")
    }
    for name in ("Ann", "Ben", "Cat", "Dan", "Eve"):
        grant(people[name], "alpha")
    grant(people["Gus"], "alpha", valid_days=3)
    people["Hal"] = world["learner"]
    people["Hal"].display_name = "Hal"
    olga = world["other_learner"]
    olga.display_name = "Olga"
    grant(olga, "alpha")
    session = schedule(world["trainer"])
    now = utcnow()
    for name in ("Ann", "Ben", "Cat", "Dan"):
        booking.book(session, people[name], now)
    running.check_in(
        session, people["Ann"], by=world["trainer"], now=session.starts_at - timedelta(hours=1)
    )
    db.session.commit()
    return {"session": session, "olga": olga, **people}


def test_the_session_page_lists_booked_waiting_eligible_and_not_yet(as_role, roster):
    session = roster["session"]
    html = as_role("trainer").get(f"/dashboard/sessions/{session.public_id}").get_data(True)
    ids = {name: roster[name].public_id for name in ("Ann", "Ben", "Cat", "Dan", "Eve", "Fay")}
    booked = section(html, "booked-heading")
    assert learners_in(booked) == [ids["Ann"], ids["Ben"]]
    assert "Present" in row(booked, roster["Ann"])
    assert "Present" not in row(booked, roster["Ben"]) and "Not yet" in row(booked, roster["Ben"])
    assert learners_in(section(html, "waiting-heading")) == [ids["Cat"], ids["Dan"]]
    assert learners_in(section(html, "eligible-heading")) == [ids["Eve"]]
    not_yet = section(html, "not-yet-heading")
    assert learners_in(not_yet) == [ids["Fay"], roster["Gus"].public_id, roster["Hal"].public_id]
    fay, gus = row(not_yet, roster["Fay"]), row(not_yet, roster["Gus"])
    assert "Hold a valid pass of the module “Alpha basics” on the session date" in fay
    assert "before the session" in gus
    assert "Olga" not in html and roster["olga"].public_id not in html


def test_the_session_list_counts_seats_waiting_and_eligible(as_role, roster, schedule, world):
    later = schedule(world["trainer"], "beta-lab", days=9)
    html = as_role("trainer").get("/dashboard/sessions").get_data(as_text=True)
    first = re.search(rf'data-session="{roster["session"].public_id}".*?</tr>', html, re.S)[0]
    assert 'data-count="booked">2 of 2' in first and "full" in first
    assert 'data-count="waiting">2<' in first
    assert 'data-count="eligible">1<' in first  # Eve; Gus's pass ends before the start
    second = re.search(rf'data-session="{later.public_id}".*?</tr>', html, re.S)[0]
    assert 'data-count="booked">0 of 2' in second and 'data-count="eligible">0<' in second
    assert html.index(roster["session"].public_id) < html.index(later.public_id)
    assert "Alpha bench practical" in first and "Lab 3" in first


def test_cancelled_and_started_sessions_are_not_listed(db, as_role, roster, schedule, world):
    cancelled = schedule(world["trainer"], days=7)
    sessions.cancel_session(cancelled, by=world["trainer"], now=utcnow())
    db.session.commit()
    roster["session"].starts_at = utcnow() - timedelta(minutes=5)
    db.session.commit()
    html = as_role("trainer").get("/dashboard/sessions").get_data(as_text=True)
    assert cancelled.public_id not in html and roster["session"].public_id not in html
    assert "No upcoming session." in html


def test_the_roster_export_gives_each_learner_a_state(as_role, roster):
    session = roster["session"]
    rows = read_csv(as_role("trainer").get(f"/dashboard/sessions/{session.public_id}.csv"))
    states = [(row["Learner"], row["State"]) for row in rows]
    assert states == [
        ("Ann", "Booked"),
        ("Ben", "Booked"),
        ("Cat", "Waiting list"),
        ("Dan", "Waiting list"),
        ("Eve", "Eligible, not booked"),
        ("Fay", "Not eligible yet"),
        ("Gus", "Not eligible yet"),
        ("Hal", "Not eligible yet"),
    ]
    by_name = {row["Learner"]: row for row in rows}
    assert by_name["Ann"]["Checked in"] == "Yes" and by_name["Ben"]["Checked in"] == "No"
    assert [by_name["Cat"]["Position on the waiting list"], by_name["Eve"]["Checked in"]] == [
        "3",
        "",
    ]
    assert "Alpha basics" in by_name["Fay"]["Missing"] and by_name["Eve"]["Missing"] == ""
    assert by_name["Gus"]["Eligible on the day"] == "No"
    assert by_name["Ann"]["E-mail"] == roster["Ann"].email


def test_a_learner_whose_pass_lapses_after_booking_is_flagged_on_the_day(
    db, as_role, roster, world
):
    ben = roster["Ben"]
    pass_ = db.session.scalar(sa.select(Qualification).where(Qualification.user_id == ben.id))
    pass_.valid_until = roster["session"].starts_at - timedelta(hours=2)
    db.session.commit()
    html = as_role("trainer").get(f"/dashboard/sessions/{roster['session'].public_id}")
    ben = row(section(html.get_data(as_text=True), "booked-heading"), roster["Ben"])
    assert "✗</span> No" in ben and "before the session" in ben
    assert "✓</span> Yes" in row(html.get_data(as_text=True), roster["Ann"])


@pytest.fixture()
def expiries(db, world, make_user, grant):
    """Acme learners: Exa's alpha pass has expired; Nev never passed alpha; Bea holds beta
    but her alpha has expired; Sam's alpha has expired and his beta score is too low;
    Val's alpha is valid; Wai's alpha has expired but the condition is waived for him on
    alpha-lab; Stu is a student whose alpha has expired."""
    acme = world["learner"].organisation
    names = ("Exa", "Nev", "Bea", "Sam", "Val", "Wai")
    people = {name: make_user("learner", acme, display_name=name) for name in names}
    people["Stu"] = make_user("learner", acme, display_name="Stu", learner_category="student")
    for name in ("Exa", "Bea", "Sam", "Wai", "Stu"):
        grant(people[name], "alpha", score=0.85, issued_days_ago=400, valid_days=365)
    grant(people["Bea"], "beta", score=0.95)
    grant(people["Sam"], "beta", score=0.7)
    grant(people["Val"], "alpha")
    db.session.add(
        Waiver(
            learner_id=people["Wai"].id,
            type_id="alpha-lab",
            condition_key="qualification_valid:alpha",
            reason="Holds the site's own certificate",
            signer_id=world["trainer"].id,
            signer_name="Tom Trainer",
            meaning="approved-by",
        )
    )
    db.session.commit()
    return people


def _blocked_pairs(html: str) -> set[tuple[str, str]]:
    found = re.findall(r'<tr data-learner="([^"]+)" data-practical="([^"]+)"', html)
    return set(found)


def test_only_learners_held_back_by_an_expired_qualification_are_listed(as_role, labs, expiries):
    html = as_role("trainer").get("/dashboard/sessions").get_data(as_text=True)
    found = _blocked_pairs(section(html, "blocked-heading"))
    ids = {name: person.public_id for name, person in expiries.items()}
    assert found == {
        (ids["Exa"], "alpha-lab"),
        (ids["Exa"], "either-lab"),  # the valid-pass branch: renewing alpha is enough
        (ids["Bea"], "alpha-lab"),
        (ids["Bea"], "beta-lab"),
        (ids["Bea"], "either-lab"),
        (ids["Sam"], "alpha-lab"),
        (ids["Sam"], "either-lab"),
        (ids["Wai"], "either-lab"),  # waived on alpha-lab only; beta-lab misses beta too
        (ids["Stu"], "alpha-lab"),
        (ids["Stu"], "students-lab"),
        (ids["Stu"], "either-lab"),
    }
    assert "Alpha basics" in html and "counted until" in html


def test_the_blocked_export_names_the_module_and_when_it_ended(as_role, labs, expiries):
    rows = read_csv(as_role("trainer").get("/dashboard/sessions/blocked.csv"))
    bea = [row for row in rows if row["Learner"] == "Bea"]
    assert {row["Practical"] for row in bea} == {
        "Alpha bench practical",
        "Beta line practical",
        "Either-way practical",
    }
    assert {row["Module to pass again"] for row in bea} == {"Alpha basics"}
    ended = (utcnow() - timedelta(days=35)).date().isoformat()
    assert all(row["Counted until"] == ended for row in bea)
    assert {row["Learner"] for row in rows} == {"Exa", "Bea", "Sam", "Wai", "Stu"}


def test_the_cohort_filter_narrows_both_tables(db, as_role, roster, expiries, world):
    trainer = world["trainer"]
    cohort = cohorts.create_cohort(trainer.organisation, "Night shift", by=trainer)
    for member in (roster["Eve"], roster["Fay"], expiries["Exa"]):
        cohorts.add_member(cohort, member.public_id, by=trainer)
    db.session.commit()
    client = as_role("trainer")
    path = f"/dashboard/sessions/{roster['session'].public_id}?cohort={cohort.public_id}"
    html = client.get(path).get_data(as_text=True)
    assert learners_in(section(html, "eligible-heading")) == [roster["Eve"].public_id]
    not_yet = [expiries["Exa"].public_id, roster["Fay"].public_id]
    assert learners_in(section(html, "not-yet-heading")) == not_yet
    assert len(learners_in(section(html, "booked-heading"))) == 2  # the seats stay shown
    listing = client.get(f"/dashboard/sessions?cohort={cohort.public_id}").get_data(True)
    blocked = _blocked_pairs(section(listing, "blocked-heading"))
    assert {learner for learner, _type in blocked} == {expiries["Exa"].public_id}
    rows = read_csv(client.get(f"/dashboard/sessions/blocked.csv?cohort={cohort.public_id}"))
    assert {row["Learner"] for row in rows} == {"Exa"}


def test_long_lists_are_paged(db, as_role, roster, many_learners, grant, world):
    crowd = many_learners(world["learner"].organisation, 60)
    for learner in crowd:
        grant(learner, "alpha", commit=False)
    db.session.commit()
    client = as_role("trainer")
    path = f"/dashboard/sessions/{roster['session'].public_id}"
    first = section(client.get(path).get_data(as_text=True), "eligible-heading")
    assert len(learners_in(first)) == 50 and "Page 1 of 2" in first
    assert "eligible_page=2" in first
    second = section(client.get(path + "?eligible_page=2").get_data(True), "eligible-heading")
    assert len(learners_in(second)) == 11  # 60 and Eve
    assert not set(learners_in(first)) & set(learners_in(second))
    rows = read_csv(client.get(path + ".csv"))
    assert sum(row["State"] == "Eligible, not booked" for row in rows) == 61


def test_a_centre_session_is_open_to_every_organisations_learners(
    db, make_user, login_as, centre, grant, schedule, world
):
    centre_trainer = make_user("trainer", centre)
    session = schedule(centre_trainer, org=centre)
    grant(world["learner"], "alpha")
    grant(world["other_learner"], "alpha")
    client = login_as(world["centre_admin"])
    html = client.get(f"/dashboard/sessions/{session.public_id}").get_data(as_text=True)
    eligible = learners_in(section(html, "eligible-heading"))
    assert {world["learner"].public_id, world["other_learner"].public_id} <= set(eligible)
    acme = world["learner"].organisation_id
    narrowed = client.get(f"/dashboard/sessions/{session.public_id}?organisation={acme}")
    eligible = learners_in(section(narrowed.get_data(as_text=True), "eligible-heading"))
    assert eligible == [world["learner"].public_id]


def test_the_pages_speak_french(db, as_role, roster, expiries, world):
    world["trainer"].language = "fr"
    db.session.commit()
    client = as_role("trainer")
    listing = client.get("/dashboard/sessions").get_data(as_text=True)
    assert "Séances à venir" in listing
    assert "Retenus seulement par une qualification expirée" in listing
    assert "Pratique alpha au banc" in listing
    assert re.search(r'<time datetime="[^"]+">(lun|mar|mer|jeu|ven|sam|dim)\. ', listing)
    page = client.get(f"/dashboard/sessions/{roster['session'].public_id}")
    detail = unescape(page.get_data(as_text=True))
    assert "Éligibles, sans réservation" in detail
    assert "Disposer d'une habilitation valide pour le module “Les bases alpha”" in detail
    rows = read_csv(client.get(f"/dashboard/sessions/{roster['session'].public_id}.csv"))
    assert "État" in rows[0] and rows[0]["État"] == "Réservé"
