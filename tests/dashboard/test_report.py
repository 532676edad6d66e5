"""The centre's training report: people trained and hours, by category, sector and month,
counted from real rows, scoped to the organisations the reader may see."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from lms.catalog.models import LessonRead, Module
from lms.dashboard import report
from lms.dashboard.period import Period, PeriodError
from lms.practicals.models import Attendance, Booking, PracticalSession
from lms.quiz.models import Attempt
from tests.dashboard.conftest import page_queries
from tests.practicals.conftest import load_types

MARCH = "from=2026-03-01&to=2026-03-31"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def line(table: list[list[str]], first: str) -> list[str]:
    return next(row for row in table if row[0] == first)


class Activity:
    """Learning records written straight into the tables, at chosen moments."""

    def __init__(self, db, trainer):
        self.db, self.trainer = db, trainer
        self.numbers = iter(range(1, 10_000))

    def read(self, learner, slug: str, when: datetime, module_id: str = "alpha") -> None:
        module = self.db.session.get(Module, module_id)
        self.db.session.add(
            LessonRead(
                user_id=learner.id,
                module_id=module_id,
                version_id=module.current_version_id,
                lesson_slug=slug,
                read_at=when,
            )
        )
        self.db.session.commit()

    def attempt(self, learner, started: datetime, minutes: float, deadline=None) -> None:
        module = self.db.session.get(Module, "alpha")
        self.db.session.add(
            Attempt(
                user_id=learner.id,
                module_id="alpha",
                version_id=module.current_version_id,
                registration=str(uuid.uuid4()),
                number=next(self.numbers),
                started_at=started,
                deadline=deadline,
                submitted_at=started + timedelta(minutes=minutes),
                state="submitted",
                draw=[],
                passed=False,
            )
        )
        self.db.session.commit()

    def practical(self, learner, starts: datetime, hours: float, **options) -> None:
        session = PracticalSession(
            type_id="grade-b-gowning",
            organisation_id=learner.organisation_id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=hours),
            room="Clean room 2",
            trainer_id=self.trainer.id,
            capacity=4,
            created_by_id=self.trainer.id,
            status=options.get("status", "scheduled"),
        )
        self.db.session.add(session)
        self.db.session.flush()
        booking = Booking(session_id=session.id, learner_id=learner.id, state="booked", position=1)
        self.db.session.add(booking)
        self.db.session.flush()
        if options.get("attended", True):
            self.db.session.add(
                Attendance(
                    session_id=session.id,
                    learner_id=learner.id,
                    booking_id=booking.id,
                    checked_in_by_id=self.trainer.id,
                )
            )
        self.db.session.commit()


@pytest.fixture()
def catalogue(module_root, sync_modules):
    """The test packages with alpha's first lesson worth 15 minutes (the second, 5)."""
    lesson = module_root / "alpha" / "lessons" / "01-first.md"
    lesson.write_text(lesson.read_text().replace("minutes: 10", "minutes: 15"))
    sync_modules(module_root)

    def new_version() -> None:
        lesson.write_text(lesson.read_text() + "\nA sentence added in the new version.\n")
        sync_modules(module_root)

    return new_version


@pytest.fixture()
def activity(db, world, catalogue):
    load_types(db)
    return Activity(db, world["trainer"])


@pytest.fixture()
def march(db, world, activity, catalogue):
    """Acme's learner (worker, biopharma) reads the 15-minute lesson twice (in two
    versions) and takes a 20-minute attempt in March, and read another lesson in
    February; the other organisation's learner reads the 15-minute lesson in March."""
    learner, other = world["learner"], world["other_learner"]
    learner.sector = "biopharma"
    db.session.commit()
    activity.read(learner, "first", at("2026-03-03T09:00:00"))
    activity.read(learner, "second", at("2026-02-27T09:00:00"))
    catalogue()  # a new version of alpha: its first lesson is read again below
    activity.read(learner, "first", at("2026-03-20T09:00:00"))
    activity.attempt(learner, at("2026-03-10T10:00:00"), 20)
    activity.read(other, "first", at("2026-03-05T09:00:00"))
    return world


def build(actor, start="2026-03-01", end="2026-03-31", organisation=None):
    period = Period(date.fromisoformat(start), date.fromisoformat(end))
    return report.build(actor, period, organisation)


def test_a_lesson_read_twice_and_an_attempt_make_35_minutes_for_the_category(march):
    built = build(march["trainer"])
    worker = next(line for line in built.categories if line.key == "worker")
    assert worker.people == 1
    assert worker.seconds == {"lesson": 15 * 60, "quiz": 20 * 60, "practical": 0}
    assert built.total.hours() * 60 == pytest.approx(35)
    assert [line.key for line in built.categories] == ["worker", "job_seeker", "student", "teacher"]


def test_the_category_table_exports_what_the_funder_reads(march, as_role):
    client = as_role("trainer")
    table = rows(client.get(f"/dashboard/report.csv?table=category&{MARCH}"))
    assert table[0] == [
        "Learner category",
        "People trained",
        "Lessons (hours)",
        "Quizzes (hours)",
        "Practical sessions (hours)",
        "Total hours",
    ]
    assert line(table, "Worker") == ["Worker", "1", "0.25", "0.33", "0.0", "0.58"]
    assert line(table, "Student") == ["Student", "0", "0.0", "0.0", "0.0", "0.0"]
    assert line(table, "Total") == ["Total", "1", "0.25", "0.33", "0.0", "0.58"]
    html = client.get(f"/dashboard/report?{MARCH}").get_data(as_text=True)
    totals = re.search(r'<dl class="facts report-totals">(.*?)</dl>', html, re.S).group(1)
    assert re.search(r"People trained</dt><dd>1</dd>", totals)
    assert "Hours of training</dt><dd>0.6</dd>" in totals


def test_a_lesson_read_outside_the_period_does_not_count(march):
    february = build(march["trainer"], "2026-02-01", "2026-02-28")
    assert february.total.people == 1
    assert february.total.seconds["lesson"] == 5 * 60
    assert build(march["trainer"], "2026-04-01", "2026-04-30").total.people == 0


def test_a_learner_of_another_organisation_is_left_out_unless_the_centre_looks(march):
    acme, other = march["learner"].organisation, march["other_learner"].organisation
    assert build(march["trainer"]).total.people == 1
    everyone = build(march["centre_admin"])
    assert everyone.total.people == 2
    assert everyone.total.seconds["lesson"] == 2 * 15 * 60
    assert build(march["centre_admin"], organisation=other.id).total.hours() == 0.25
    # A crafted organisation from a trainer is ignored: their own stays in view.
    assert build(march["trainer"], organisation=other.id).total.people == 1
    assert build(march["trainer"], organisation=other.id).total.hours() * 60 == 35
    assert build(march["other_admin"], organisation=acme.id).total.hours() == 0.25


def test_months_start_at_midnight_on_the_first(db, world, activity):
    learner = world["learner"]
    activity.read(learner, "first", at("2026-03-31T23:59:59"))
    activity.read(learner, "second", at("2026-04-01T00:00:00"))
    built = build(world["trainer"], "2026-03-15", "2026-04-30")
    assert [line.month for line in built.months] == [date(2026, 3, 1), date(2026, 4, 1)]
    assert [line.hours("worker") * 60 for line in built.months] == [15, 5]
    assert [line.people for line in built.months] == [1, 1]
    assert built.total.people == 1  # once over the period, though trained in both months
    only_march = build(world["trainer"], "2026-03-01", "2026-03-31")
    assert only_march.total.seconds["lesson"] == 15 * 60  # the last day is included


def test_months_follow_the_centre_timezone(app, db, world, activity, monkeypatch, as_role):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "Europe/Paris")
    learner = world["learner"]
    activity.read(learner, "first", at("2026-03-31T21:30:00"))  # 23:30 in Paris
    activity.read(learner, "second", at("2026-03-31T22:30:00"))  # 00:30 on 1 April in Paris
    built = build(world["trainer"], "2026-03-01", "2026-04-30")
    assert built.timezone == "Europe/Paris"
    assert [line.hours("worker") * 60 for line in built.months] == [15, 5]
    html = as_role("trainer").get("/dashboard/report?from=2026-03-01&to=2026-04-30")
    assert "midnight in the Europe/Paris timezone" in html.get_data(as_text=True)


def test_attempts_are_capped_and_practicals_count_only_when_attended(db, world, activity):
    learner = world["learner"]
    activity.attempt(learner, at("2026-03-02T08:00:00"), 5 * 60)  # a tab left open
    deadline = at("2026-03-03T08:20:00")
    activity.attempt(learner, at("2026-03-03T08:00:00"), 20, deadline=deadline)
    activity.practical(learner, at("2026-03-04T08:00:00"), 2.5)
    activity.practical(learner, at("2026-03-05T08:00:00"), 3, attended=False)
    activity.practical(learner, at("2026-03-06T08:00:00"), 3, status="cancelled")
    built = build(world["trainer"])
    assert built.total.seconds["quiz"] == pytest.approx(2 * 3600 + 20 * 60)
    assert built.total.seconds["practical"] == pytest.approx(2.5 * 3600)


def test_people_and_hours_by_the_learners_sector_add_up(db, world, activity, make_user, as_role):
    learner = world["learner"]
    learner.sector = "biopharma"
    acme = learner.organisation
    student = make_user("learner", acme, learner_category="student", sector="chemistry")
    unknown = make_user("learner", acme, learner_category=None)
    staff = world["trainer"]
    activity.read(learner, "first", at("2026-03-03T09:00:00"))
    activity.practical(student, at("2026-03-04T08:00:00"), 2)
    activity.read(unknown, "first", at("2026-03-05T09:00:00"))
    activity.read(staff, "second", at("2026-03-05T09:00:00"))  # staff are not counted
    client = as_role("trainer")
    sectors = rows(client.get(f"/dashboard/report.csv?table=sector&{MARCH}"))
    assert line(sectors, "Biopharmaceutical") == [
        "Biopharmaceutical",
        "1",
        "0.25",
        "0.0",
        "0.0",
        "0.25",
    ]
    assert line(sectors, "Chemistry") == ["Chemistry", "1", "0.0", "0.0", "2.0", "2.0"]
    assert line(sectors, "Not recorded") == ["Not recorded", "1", "0.25", "0.0", "0.0", "0.25"]
    assert line(sectors, "Total") == ["Total", "3", "0.5", "0.0", "2.0", "2.5"]
    categories = rows(client.get(f"/dashboard/report.csv?table=category&{MARCH}"))
    assert line(categories, "Student")[1:] == ["1", "0.0", "0.0", "2.0", "2.0"]
    assert line(categories, "Not recorded")[1:] == ["1", "0.25", "0.0", "0.0", "0.25"]
    assert line(categories, "Total") == line(sectors, "Total")


def test_the_month_table_and_chart_split_hours_by_category(march, make_user, activity, as_role):
    student = make_user("learner", march["learner"].organisation, learner_category="student")
    activity.practical(student, at("2026-04-02T08:00:00"), 3)
    client = as_role("trainer")
    months = rows(client.get("/dashboard/report.csv?table=month&from=2026-02-01&to=2026-04-30"))
    assert months[0] == [
        "Month",
        "Worker (hours)",
        "Job-seeker (hours)",
        "Student (hours)",
        "Teacher (hours)",
        "Total hours",
        "People trained",
    ]
    assert months[1:] == [
        ["2026-02", "0.08", "0.0", "0.0", "0.0", "0.08", "1"],
        ["2026-03", "0.58", "0.0", "0.0", "0.0", "0.58", "1"],
        ["2026-04", "0.0", "0.0", "3.0", "0.0", "3.0", "1"],
        ["Whole period", "0.67", "0.0", "3.0", "0.0", "3.67", "2"],
    ]
    html = client.get("/dashboard/report?from=2026-02-01&to=2026-04-30").get_data(as_text=True)
    figure = re.search(r'<figure class="chart-figure" id="report-month">(.*?)</figure>', html, re.S)
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in figure.group(1)
    assert "<title>Apr 2026, Student: 3</title>" in figure.group(1)
    assert "<caption>Data of the chart “Training hours by month”</caption>" in figure.group(1)


def test_every_table_has_a_chart_a_csv_link_and_the_counting_rules(march, as_role):
    html = as_role("trainer").get(f"/dashboard/report?{MARCH}").get_data(as_text=True)
    for table in ("category", "sector", "month"):
        assert f'id="report-{table}"' in html
        assert f"/dashboard/report.csv?table={table}&amp;from=2026-03-01&amp;to=2026-03-31" in html
    assert "How we count" in html
    assert "at most 2 hours" in html
    assert "not the sector of the module" in html
    assert "from March 1, 2026 to March 31, 2026, both included" in html


def test_the_default_period_is_the_last_twelve_full_months(db, world, activity, clock, as_role):
    clock.current = at("2026-05-10T12:00:00")
    activity.read(world["learner"], "first", at("2026-04-30T12:00:00"))
    activity.read(world["learner"], "second", at("2026-05-01T12:00:00"))
    html = as_role("trainer").get("/dashboard/report").get_data(as_text=True)
    assert 'name="from" value="2025-05-01"' in html
    assert 'name="to" value="2026-04-30"' in html
    assert "Hours of training</dt><dd>0.2</dd>" in html  # 15 minutes; May is not over
    assert 'href="/dashboard/report?from=2025-01-01&amp;to=2025-12-31">Last year</a>' in html
    assert 'href="/dashboard/report?from=2026-01-01&amp;to=2026-05-10">This year so far</a>' in html


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-13-01&to=2026-12-31", "from", "Enter a date such as 2026-03-31"),
        ("from=1%2F3%2F2026", "from", "Enter a date such as 2026-03-31"),
        ("from=2026-04-01&to=2026-03-01", "to", "The end of the period comes before its start."),
        ("from=2020-01-01&to=2026-01-01", "to", "Choose a period within 36 calendar months."),
        ("from=0202-03-01&to=2026-01-01", "from", "Choose a date between 2000 and 2100."),
    ],
)
def test_a_bad_period_is_refused_with_the_form_and_a_clear_message(
    march, as_role, query, field, message
):
    client = as_role("trainer")
    response = client.get(f"/dashboard/report?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert f'<p class="error" id="r-{field}-error">{message}' in html
    assert f'<input type="text" id="r-{field}" name="{field}"' in html  # shown as typed
    assert 'aria-invalid="true"' in html
    assert "People trained" not in html
    exported = client.get(f"/dashboard/report.csv?table=month&{query}")
    assert exported.status_code == 400
    assert message in exported.get_data(as_text=True)


def test_an_unknown_table_is_not_found(march, as_role):
    assert as_role("trainer").get(f"/dashboard/report.csv?table=users&{MARCH}").status_code == 404


def test_period_parsing_takes_defaults_for_empty_fields():
    today = date(2026, 1, 15)
    assert Period.from_args({}, today) == Period(date(2025, 1, 1), date(2025, 12, 31))
    assert Period.from_args({"from": "2025-06-01", "to": ""}, today).end == date(2025, 12, 31)
    assert Period.from_args({"from": "2023-01-01", "to": "2025-12-31"}, today).months()[-1] == (
        date(2025, 12, 1)
    )
    with pytest.raises(PeriodError) as raised:
        Period.from_args({"from": "2023-01-01", "to": "2026-01-01"}, today)
    assert set(raised.value.errors) == {"to"}


PATHS = [
    f"/dashboard/report?{MARCH}",
    f"/dashboard/report.csv?table=category&{MARCH}",
    f"/dashboard/report.csv?table=sector&{MARCH}",
    f"/dashboard/report.csv?table=month&{MARCH}",
]


@pytest.mark.parametrize(
    ("role", "outcome"),
    [("anonymous", "login"), ("learner", 403), ("trainer", 200), ("admin", 200)]
    + [("centre_admin", 200), ("other_admin", 200)],
)
def test_who_may_open_the_report(march, as_role, role, outcome):
    client = as_role(role)
    for path in PATHS:
        response = client.get(path)
        if outcome == "login":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code == outcome, path


@pytest.mark.parametrize("role", ["other_admin", "other_trainer"])
def test_another_organisation_never_sees_acme_numbers_even_by_crafted_filter(
    march, as_role, make_user, role
):
    if role == "other_trainer":
        march["other_trainer"] = make_user("trainer", march["other_learner"].organisation)
    client = as_role(role)
    acme = march["learner"].organisation
    for query in ("", f"&organisation={acme.id}"):
        table = rows(client.get(f"/dashboard/report.csv?table=category&{MARCH}{query}"))
        assert line(table, "Total") == ["Total", "1", "0.25", "0.0", "0.0", "0.25"]
        months = rows(client.get(f"/dashboard/report.csv?table=month&{MARCH}{query}"))
        assert line(months, "2026-03")[-2:] == ["0.25", "1"]
        html = client.get(f"/dashboard/report?{MARCH}{query}").get_data(as_text=True)
        assert "Acme Pharma" not in html
        assert "Other Chemicals" in html


def test_the_centre_admin_sees_all_organisations_or_picks_one(march, as_role):
    client = as_role("centre_admin")
    html = client.get(f"/dashboard/report?{MARCH}").get_data(as_text=True)
    assert '<option value="">All organisations</option>' in html
    everyone = rows(client.get(f"/dashboard/report.csv?table=category&{MARCH}"))
    assert line(everyone, "Total")[:2] == ["Total", "2"]
    other = march["other_learner"].organisation
    picked = rows(
        client.get(f"/dashboard/report.csv?table=category&{MARCH}&organisation={other.id}")
    )
    assert line(picked, "Total") == ["Total", "1", "0.25", "0.0", "0.0", "0.25"]
    html = client.get(f"/dashboard/report?{MARCH}&organisation={other.id}").get_data(as_text=True)
    assert f'<option value="{other.id}" selected>Other Chemicals</option>' in html
    assert f"organisation={other.id}" in re.search(r'href="([^"]*table=month[^"]*)"', html).group(1)


def test_the_page_prints_without_its_form_navigation_or_buttons(march, as_role, app):
    html = as_role("trainer").get(f"/dashboard/report?{MARCH}").get_data(as_text=True)
    assert 'class="filters report-form"' in html
    assert html.count('class="report-actions"') == 4  # three exports, the usual periods
    css = app.root_path + "/dashboard/static/dashboard.css"
    with open(css, encoding="utf-8") as sheet:
        printing = sheet.read().split("/* --- Training report")[1]
    rule = re.search(r"@media print \{(.*?)\n\}", printing, re.S).group(1)
    assert ".report .dashboard-nav, .report .report-form, .report .report-actions" in rule


def test_the_report_is_in_french(march, as_role):
    client = as_role("trainer")
    html = client.get(f"/dashboard/report?{MARCH}", headers={"Accept-Language": "fr"})
    text = html.get_data(as_text=True)
    assert "<h1>Rapport de formation</h1>" in text
    assert "Comment nous comptons" in text
    assert "Salarié" in text
    assert "mars 2026" in text
    table = rows(
        client.get(
            f"/dashboard/report.csv?table=category&{MARCH}", headers={"Accept-Language": "fr"}
        )
    )
    assert table[0][:2] == ["Catégorie d'apprenant", "Personnes formées"]
    bad = client.get(
        "/dashboard/report?from=2026-04-01&to=2026-03-01", headers={"Accept-Language": "fr"}
    )
    assert "La fin de la période précède son début." in bad.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/report?from=2026-01-01&to=2026-12-31",
        "/dashboard/report.csv?table=month&from=2026-01-01&to=2026-12-31",
    ],
)
def test_query_count_does_not_grow_with_learners(
    db, make_org, make_user, many_learners, activity, login_as, make_client, path
):
    counts = []
    for size in (10, 500):
        org = make_org()
        trainer = make_user("trainer", org)
        module = db.session.get(Module, "alpha")
        for index, learner in enumerate(many_learners(org, size)):
            when = at("2026-01-05T10:00:00") + timedelta(days=index % 300)
            db.session.add(
                LessonRead(
                    user_id=learner.id,
                    module_id="alpha",
                    version_id=module.current_version_id,
                    lesson_slug="first",
                    read_at=when,
                )
            )
            db.session.add(
                Attempt(
                    user_id=learner.id,
                    module_id="alpha",
                    version_id=module.current_version_id,
                    registration=str(uuid.uuid4()),
                    number=1,
                    started_at=when,
                    submitted_at=when + timedelta(minutes=12),
                    state="submitted",
                    draw=[],
                )
            )
        db.session.commit()
        client = login_as(trainer, on=make_client())
        counts.append(page_queries(client, path))
        if path.startswith("/dashboard/report.csv"):
            total = line(rows(client.get(path)), "Whole period")
            assert float(total[-2]) == pytest.approx(size * 27 / 60, abs=0.01)
            assert total[-1] == str(size)
    assert counts[0] == counts[1]
