"""Module results and item statistics: the figures a trainer reads, who may read them,
and what another organisation sees."""

from __future__ import annotations

import csv
import io
import random
import re

import pytest

from lms.catalog.models import Module
from lms.dashboard import cohorts, itemstats, results
from lms.dashboard.responses_summary import summarise_answers
from tests.dashboard import results_fixtures as fixtures
from tests.dashboard.results_fixtures import RIGHT, WRONG, module_version

# The shared fixtures of the results tests, under their own names.
fresh_figures = fixtures.fresh_figures
take_quiz = fixtures.take_quiz
quiz_class = fixtures.quiz_class

ROUTES = [
    "/dashboard/modules",
    "/dashboard/modules.csv",
    "/dashboard/modules/alpha",
    "/dashboard/modules/alpha/items.csv",
    "/dashboard/modules/alpha/summary.csv",
]


def text_of(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def rows_of(response) -> list[dict[str, str]]:
    body = text_of(response)
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def squash(html: str) -> str:
    """The page's text without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def row_of(html: str, attribute: str, value: str) -> str:
    match = re.search(rf'<tr[^>]*{attribute}="{re.escape(value)}".*?</tr>', html, re.S)
    assert match, f"no row {attribute}={value}"
    return match.group(0)


def cell(row: str, figure: str) -> str:
    match = re.search(rf'data-(?:figure|column)="{figure}"[^>]*>(.*?)</td>', row, re.S)
    assert match, f"no cell {figure}"
    return squash(match.group(1))


# Roles ---------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(as_role, quiz_class):
    client = as_role("anonymous")
    for path in ROUTES:
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/login" in response.headers["Location"]


def test_learners_are_refused(as_role, quiz_class):
    client = as_role("learner")
    for path in [*ROUTES, "/dashboard/modules/nothing"]:
        assert client.get(path).status_code == 403, path


@pytest.mark.parametrize("role", ["trainer", "admin", "centre_admin", "other_admin"])
def test_staff_open_every_page_and_export(as_role, quiz_class, role):
    client = as_role(role)
    for path in ROUTES:
        assert client.get(path).status_code == 200, path
    assert client.get("/dashboard/modules/beta").status_code == 200


@pytest.mark.parametrize("role", ["trainer", "centre_admin"])
def test_an_unknown_module_is_not_found(as_role, world, role):
    client = as_role(role)
    for path in [
        "/dashboard/modules/nothing",
        "/dashboard/modules/nothing/items.csv",
        "/dashboard/modules/nothing/summary.csv",
    ]:
        assert client.get(path).status_code == 404, path
    assert client.get("/dashboard/modules/" + "x" * 80).status_code == 404


# What a trainer reads ----------------------------------------------------------------


def test_the_module_list_counts_attempts_learners_passes_time_and_flags(as_role, quiz_class):
    html = text_of(as_role("trainer").get("/dashboard/modules"))
    alpha = row_of(html, "data-module", "alpha")
    assert "Alpha basics" in alpha
    assert cell(alpha, "attempts") == "5"  # Ann's retake counts
    assert cell(alpha, "learners") == "4"
    assert cell(alpha, "pass_rate") == "20 %"  # only the retake passed
    assert cell(alpha, "mean_score") == "60 %"  # (5 + 5 + 2 + 2 + 7) / 35
    assert cell(alpha, "mean_seconds") == "12 min"
    assert 'data-count="3"' in alpha  # truth, multiple, order
    assert "4 first attempts: too few to judge" in cell(alpha, "flagged")
    beta = row_of(html, "data-module", "beta")
    assert cell(beta, "attempts") == "0"
    assert cell(beta, "pass_rate") == "–"


def test_the_module_list_exports_the_same_figures(as_role, quiz_class):
    rows = rows_of(as_role("trainer").get("/dashboard/modules.csv"))
    alpha = next(row for row in rows if row["Module id"] == "alpha")
    assert alpha["Module"] == "Alpha basics"
    assert alpha["Attempts"] == "5"
    assert alpha["Learners"] == "4"
    assert alpha["Pass rate (%)"] == "20"
    assert alpha["Mean score (%)"] == "60"
    assert alpha["Mean time (minutes)"] == "12.0"
    assert alpha["First attempts at the current version"] == "4"
    assert alpha["Flagged questions"] == "3"


@pytest.mark.parametrize(
    ("sort", "first"),
    [("title", "alpha"), ("attempts&desc=1", "alpha"), ("attempts", "beta")],
)
def test_the_module_list_sorts_by_a_column(as_role, quiz_class, sort, first):
    html = text_of(as_role("trainer").get(f"/dashboard/modules?sort={sort}"))
    order = re.findall(r'data-module="([^"]+)"', html)
    assert order[0] == first
    assert 'aria-sort="' in html
    csv_order = [
        r["Module id"]
        for r in rows_of(as_role("trainer").get(f"/dashboard/modules.csv?sort={sort}"))
    ]
    assert csv_order == order


def test_the_headline_counts_every_attempt_at_the_version(as_role, quiz_class):
    html = text_of(as_role("trainer").get("/dashboard/modules/alpha"))
    headline = squash(re.search(r'<dl class="facts" id="headline">.*?</dl>', html, re.S).group(0))
    assert "Attempts 5" in headline
    assert "Learners 4" in headline
    assert "Pass rate 20 %" in headline
    assert "Learners who passed 1 of 4" in headline
    assert "Mean score 60 %" in headline
    assert "Mean time 12 min" in headline


def test_the_test_statistics_of_the_first_attempts_match_the_hand_computed_ones(
    as_role, quiz_class
):
    html = text_of(as_role("trainer").get("/dashboard/modules/alpha"))
    table = re.search(r'<table class="statistics".*?</table>', html, re.S).group(0)

    def value(name: str) -> str:
        row = re.search(rf'data-statistic="{name}">(.*?)</tr>', table, re.S).group(1)
        return squash(re.search(r'<td class="num">(.*?)</td>', row, re.S).group(1))

    # First attempts: 5, 5, 2 and 2 out of 7; the retake does not count.
    assert value("mean") == "50 %"
    assert value("median") == "50 %"
    assert value("sd") == "24.7 points"  # sample SD of 5/7, 5/7, 2/7, 2/7
    # KR-20 = 7/6 * (1 - 1.25 / 2.25)
    assert value("reliability") == "0.52"
    assert "Reliability (KR-20)" in table
    assert "About 52 % of the differences between learners" in squash(table)
    assert value("sem") == "17.2 points"  # 24.7 * sqrt(1 - 0.5185)
    assert "Too few attempts to rely on." in html
    assert "Only 4 learners have a first attempt at this version." in squash(html)


def test_the_figures_and_the_distribution_export_to_csv(as_role, quiz_class):
    rows = rows_of(as_role("trainer").get("/dashboard/modules/alpha/summary.csv"))
    figures = {(row["Part"], row["Figure"]): row["Value"] for row in rows}
    assert figures[("All attempts", "Version")] == "1.0"
    assert figures[("All attempts", "Attempts")] == "5"
    assert figures[("All attempts", "Pass rate (%)")] == "20"
    assert figures[("All attempts", "Learners who passed")] == "1"
    assert figures[("First attempts", "Attempts")] == "4"
    assert figures[("First attempts", "Standard deviation (points)")] == "24.7"
    assert figures[("First attempts", "Reliability (KR-20)")] == "0.52"
    assert figures[("First attempts", "Standard error of measurement (points)")] == "17.2"
    assert figures[("Score distribution", "20–29 %")] == "2"
    assert figures[("Score distribution", "70–79 %")] == "2"


def test_the_score_distribution_is_a_chart_with_its_table(as_role, quiz_class):
    html = text_of(as_role("trainer").get("/dashboard/modules/alpha"))
    figure = re.search(
        r'<figure class="chart-figure" id="score-distribution">.*?</figure>', html, re.S
    )
    assert figure, "no chart"
    drawing = figure.group(0)
    assert 'role="img"' in drawing
    assert "<title" in drawing and "<desc" in drawing
    assert "The pass mark is 80 %." in drawing
    data = {
        squash(band): squash(count)
        for band, count in re.findall(
            r'<th scope="row">(.*?)</th>\s*<td class="num">(.*?)</td>', drawing, re.S
        )
    }
    assert data["20–29 %"] == "2"  # Cleo and Dan: 2 of 7
    assert data["70–79 %"] == "2"  # Ann and Ben: 5 of 7
    assert data["90–100 %"] == "0"  # Ann's retake is not a first attempt
    assert sum(int(v) for v in data.values()) == 4


def test_each_question_shows_facility_discrimination_answers_and_flags(as_role, quiz_class):
    html = text_of(as_role("trainer").get("/dashboard/modules/alpha"))
    single = row_of(html, "data-question", "single")
    assert "Pick one" in single
    assert "Single choice" in single
    assert cell(single, "drawn") == "4"
    assert cell(single, "facility") == "0.50"  # half the learners got it right
    assert cell(single, "discrimination") == "1.00"
    assert cell(single, "groups") == "100 % / 0 %"
    answers = cell(single, "answers")
    assert "A: 2 (50 %) correct" in answers
    assert "B: 2 (50 %)" in answers
    assert "B: 2 (50 %) correct" not in answers
    assert cell(single, "flags") == "No flag"
    assert 'class="flagged"' not in single

    truth = row_of(html, "data-question", "truth")
    assert cell(truth, "facility") == "0.50"
    assert cell(truth, "discrimination") == "-1.00"  # the strong learners miss it
    assert "True: 2 (50 %) correct" in cell(truth, "answers")
    assert "Negative discrimination" in cell(truth, "flags")
    assert "check the answer key" in cell(truth, "flags")
    assert 'class="flagged"' in truth

    multiple = row_of(html, "data-question", "multiple")
    assert cell(multiple, "facility") == "1.00"
    assert cell(multiple, "discrimination") == "–"  # everybody right: nothing to correlate
    assert "Very easy" in cell(multiple, "flags")
    assert "A: 4 (100 %) correct" in cell(multiple, "answers")
    assert "B: 0 (0 %)" in cell(multiple, "answers")

    order = row_of(html, "data-question", "order")
    assert cell(order, "facility") == "0.00"
    assert "Very hard" in cell(order, "flags")
    assert "Put on the suit → Wash hands: 4 (100 %)" in cell(order, "answers")

    word = row_of(html, "data-question", "word")
    assert cell(word, "drawn") == "4"  # Dan never saved it: it still counts, as wrong
    assert cell(word, "facility") == "0.50"
    assert "first air: 2 (50 %) correct" in cell(word, "answers")
    assert "Not answered: 1 (25 %)" in cell(word, "answers")
    assert "3 questions look broken" in html


def test_the_question_table_exports_to_csv(as_role, quiz_class):
    rows = {
        row["Question id"]: row
        for row in rows_of(as_role("trainer").get("/dashboard/modules/alpha/items.csv"))
    }
    assert list(rows) == ["single", "multiple", "truth", "speed", "pairs", "order", "word"]
    assert rows["single"]["Facility"] == "0.5"
    assert rows["single"]["Discrimination (item-rest correlation)"] == "1.0"
    assert rows["single"]["Upper group: right (%)"] == "100"
    assert rows["single"]["Upper-lower index"] == "1.0"
    assert "A: 2 (50 %) (correct)" in rows["single"]["Answers"]
    assert rows["truth"]["Flags"] == "Negative discrimination"
    assert rows["truth"]["Discrimination (item-rest correlation)"] == "-1.0"
    assert rows["multiple"]["Discrimination (item-rest correlation)"] == ""
    assert rows["word"]["Not answered"] == "1"
    assert rows["word"]["Question"] == "The word?"


def test_a_question_bank_drawn_at_random_is_measured_by_position(
    as_role, world, loaded, take_quiz, make_user
):
    acme = world["learner"].organisation
    learners = [world["learner"]] + [make_user("learner", acme) for _ in range(3)]
    draws = [
        ["single", "truth", "speed"],
        ["truth", "word", "single"],
        ["pairs", "single", "truth"],
        ["speed", "pairs", "word"],
    ]
    answers = [RIGHT, RIGHT, {**WRONG, "single": "a"}, WRONG]
    for learner, drawn, given in zip(learners, draws, answers, strict=True):
        take_quiz(learner, given, drawn=drawn)
    html = text_of(as_role("trainer").get("/dashboard/modules/alpha"))
    # Positions: scores (1,1,1), (1,1,1), (0,1,0), (0,0,0): alpha of those columns.
    expected = itemstats.cronbach_alpha([[1, 1, 1], [1, 1, 1], [0, 1, 0], [0, 0, 0]])
    table = squash(re.search(r'<table class="statistics".*?</table>', html, re.S).group(0))
    assert f"Reliability (KR-20) {expected:.2f}" in table
    assert "each place in the quiz" in table
    assert cell(row_of(html, "data-question", "single"), "drawn") == "3"
    assert cell(row_of(html, "data-question", "order"), "drawn") == "0"
    assert "Nobody has had this question yet." in row_of(html, "data-question", "order")


def test_undefined_statistics_are_explained_not_crashed(as_role, world, loaded, take_quiz):
    take_quiz(world["learner"], RIGHT)
    html = text_of(as_role("trainer").get("/dashboard/modules/alpha"))
    table = squash(re.search(r'<table class="statistics".*?</table>', html, re.S).group(0))
    assert "Standard deviation – Needs at least two first attempts." in table
    assert "Reliability – Needs at least two first attempts." in table
    assert "Standard error of measurement – Needs the reliability." in table
    assert cell(row_of(html, "data-question", "single"), "discrimination") == "–"


def test_attempts_of_different_lengths_have_no_reliability(
    as_role, world, loaded, take_quiz, make_user
):
    take_quiz(world["learner"], RIGHT, drawn=["single", "truth"])
    take_quiz(
        make_user("learner", world["learner"].organisation),
        WRONG,
        drawn=["single", "truth", "word"],
    )
    table = squash(text_of(as_role("trainer").get("/dashboard/modules/alpha")))
    assert "did not all have the same number of questions" in table


def test_a_module_without_attempts_says_so(as_role, world, loaded):
    html = squash(text_of(as_role("trainer").get("/dashboard/modules/alpha")))
    assert "Nobody in this selection has submitted an attempt at this version yet" in html
    assert "Nobody has had this question yet." in html


def test_statistics_are_per_version_with_a_picker(
    db, as_role, quiz_class, take_quiz, sync_modules, module_root
):
    old = module_version(db)
    manifest = module_root / "alpha" / "module.yaml"
    manifest.write_text(manifest.read_text().replace('version: "1.0"', 'version: "1.1"'))
    sync_modules(module_root)
    new = module_version(db)
    assert new.id != old.id
    take_quiz(quiz_class["ben"], RIGHT)
    client = as_role("trainer")
    html = text_of(client.get("/dashboard/modules/alpha"))
    assert "of the current version (1.1)" in html
    assert 'name="version"' in html
    assert cell(row_of(html, "data-question", "single"), "drawn") == "1"
    assert "Attempts 1" in squash(html)

    html = text_of(client.get(f"/dashboard/modules/alpha?version={old.id}"))
    assert "of an earlier version (1.0)" in html
    assert cell(row_of(html, "data-question", "single"), "facility") == "0.50"
    assert f"version={old.id}" in html  # the export keeps the version
    rows = rows_of(client.get(f"/dashboard/modules/alpha/items.csv?version={old.id}"))
    assert rows[0]["First attempts with the question"] == "4"

    beta = module_version(db, "beta")
    html = text_of(client.get(f"/dashboard/modules/alpha?version={beta.id}"))
    assert "of the current version (1.1)" in html  # another module's version is ignored


# Organisations and cohorts -------------------------------------------------------------


@pytest.mark.parametrize("role", ["trainer", "admin"])
def test_staff_see_only_their_organisation_even_with_a_crafted_filter(
    as_role, quiz_class, world, role
):
    client = as_role(role)
    other = world["other_learner"].organisation_id
    for query in ["", f"?organisation={other}"]:
        html = text_of(client.get(f"/dashboard/modules/alpha{query}"))
        assert "Attempts 5" in squash(html), query
        assert cell(row_of(html, "data-question", "single"), "drawn") == "4", query
        alpha = row_of(text_of(client.get(f"/dashboard/modules{query}")), "data-module", "alpha")
        assert cell(alpha, "attempts") == "5", query
        rows = rows_of(client.get(f"/dashboard/modules.csv{query}"))
        assert next(r for r in rows if r["Module id"] == "alpha")["Attempts"] == "5", query
        items = rows_of(client.get(f"/dashboard/modules/alpha/items.csv{query}"))
        assert items[0]["First attempts with the question"] == "4", query
        summary = rows_of(client.get(f"/dashboard/modules/alpha/summary.csv{query}"))
        assert summary[1]["Value"] == "5", query


def test_another_organisation_never_sees_acme_results(as_role, quiz_class, world):
    client = as_role("other_admin")
    acme = world["learner"].organisation_id
    for query in ["", f"?organisation={acme}"]:
        html = text_of(client.get(f"/dashboard/modules/alpha{query}"))
        assert "Attempts 1" in squash(html), query  # their own learner only
        assert cell(row_of(html, "data-question", "single"), "drawn") == "1", query
        assert "A: 1 (100 %) correct" in cell(row_of(html, "data-question", "single"), "answers")
        alpha = row_of(text_of(client.get(f"/dashboard/modules{query}")), "data-module", "alpha")
        assert cell(alpha, "attempts") == "1", query
        rows = rows_of(client.get(f"/dashboard/modules.csv{query}"))
        assert next(r for r in rows if r["Module id"] == "alpha")["Attempts"] == "1", query
        items = rows_of(client.get(f"/dashboard/modules/alpha/items.csv{query}"))
        assert items[0]["First attempts with the question"] == "1", query
        summary = rows_of(client.get(f"/dashboard/modules/alpha/summary.csv{query}"))
        assert summary[1]["Value"] == "1", query


def test_a_centre_admin_sees_every_organisation_or_the_one_chosen(as_role, quiz_class, world):
    client = as_role("centre_admin")
    html = text_of(client.get("/dashboard/modules/alpha"))
    assert "Attempts 6" in squash(html)
    assert cell(row_of(html, "data-question", "single"), "drawn") == "5"
    assert 'name="organisation"' in html
    acme = world["learner"].organisation_id
    html = text_of(client.get(f"/dashboard/modules/alpha?organisation={acme}"))
    assert "Attempts 5" in squash(html)
    rows = rows_of(client.get(f"/dashboard/modules.csv?organisation={acme}"))
    assert next(r for r in rows if r["Module id"] == "alpha")["Attempts"] == "5"


def test_a_cohort_narrows_the_results_to_its_members(db, as_role, quiz_class, world):
    trainer = world["trainer"]
    cohort = cohorts.create_cohort(trainer.organisation, "Morning group", by=trainer)
    for name in ("cleo", "dan"):
        cohorts.add_member(cohort, quiz_class[name].public_id, by=trainer)
    db.session.commit()
    client = as_role("trainer")
    html = text_of(client.get(f"/dashboard/modules/alpha?cohort={cohort.public_id}"))
    assert "Attempts 2" in squash(html)
    assert "Only the learners of the cohort Morning group count." in html
    assert cell(row_of(html, "data-question", "single"), "facility") == "0.00"
    alpha = row_of(
        text_of(client.get(f"/dashboard/modules?cohort={cohort.public_id}")), "data-module", "alpha"
    )
    assert cell(alpha, "attempts") == "2"
    rows = rows_of(client.get(f"/dashboard/modules.csv?cohort={cohort.public_id}"))
    assert next(r for r in rows if r["Module id"] == "alpha")["Learners"] == "2"


def test_another_organisations_cohort_is_not_found(db, as_role, quiz_class, world):
    other = world["other_learner"].organisation
    cohort = cohorts.create_cohort(other, "Their group", by=world["other_admin"])
    db.session.commit()
    client = as_role("trainer")
    for path in ROUTES:
        assert client.get(f"{path}?cohort={cohort.public_id}").status_code == 404, path


def test_new_attempts_change_the_figures_at_once(as_role, quiz_class, take_quiz, make_user, world):
    client = as_role("trainer")
    before = row_of(text_of(client.get("/dashboard/modules")), "data-module", "alpha")
    assert 'data-count="3"' in before
    # A fifth learner gets ``order`` right: it is no longer very hard (facility 0.2).
    take_quiz(make_user("learner", world["learner"].organisation), RIGHT)
    after = row_of(text_of(client.get("/dashboard/modules")), "data-module", "alpha")
    assert 'data-count="2"' in after
    html = text_of(client.get("/dashboard/modules/alpha"))
    assert cell(row_of(html, "data-question", "order"), "facility") == "0.20"


# Language ------------------------------------------------------------------------------


def test_the_pages_and_exports_are_in_french(as_role, quiz_class):
    client = as_role("trainer")
    french = {"Accept-Language": "fr"}
    html = text_of(client.get("/dashboard/modules", headers=french))
    assert "Résultats des modules" in html
    assert "Les bases alpha" in html
    html = squash(text_of(client.get("/dashboard/modules/alpha", headers=french)))
    assert "Choisissez" in html  # the question in French, from the bank
    assert "Discrimination négative" in html
    assert "Vrai : 2 (50 %) bonne réponse" in html
    assert "Fiabilité (KR-20) 0,52" in html
    rows = rows_of(client.get("/dashboard/modules/alpha/items.csv", headers=french))
    assert rows[2]["Drapeaux"] == "Discrimination négative"
    assert rows[0]["Question"] == "Choisissez"


def test_free_answers_that_mean_the_same_are_counted_together(app, db, loaded):
    bank = {q["id"]: q for q in module_version(db).questions}
    with app.test_request_context():
        lines, unanswered = summarise_answers(
            bank["word"],
            [("First  Air", 2), ("first air", 1), ("second air", 1), ("third", 1),
             ("fourth", 1), ("fifth", 1), (None, 2)],
            drawn=10,
        )  # fmt: skip
        assert [(line.text, line.count, line.correct) for line in lines] == [
            ("First  Air", 3, True),
            ("fifth", 1, False),
            ("fourth", 1, False),
            ("Other answers", 2, None),
        ]
        assert unanswered == 3
        lines, _unanswered = summarise_answers(
            bank["speed"], [(0.45, 1), (0.450, 1), (0.5, 2), (3, 1)], drawn=5
        )
        assert [(line.text, line.count, line.correct) for line in lines] == [
            ("0.45 m/s", 2, True),
            ("0.5 m/s", 2, True),
            ("3 m/s", 1, False),
        ]
        lines, _unanswered = summarise_answers(
            bank["pairs"], [({"d": "support", "a": "filling"}, 1)], drawn=1
        )
        assert lines[0].text == "Grade A → Filling; Grade D → Support"
        assert lines[0].share == 1.0


def test_the_caution_goes_away_with_twenty_first_attempts(
    db, as_role, world, loaded, many_learners, clock
):
    learners = many_learners(world["learner"].organisation, itemstats.MIN_ATTEMPTS)
    fixtures.bulk_attempts(db, learners, clock)
    html = text_of(as_role("trainer").get("/dashboard/modules/alpha"))
    assert "Too few attempts to rely on." not in html
    assert "20 attempts" in html
    alpha = row_of(text_of(as_role("trainer").get("/dashboard/modules")), "data-module", "alpha")
    assert "too few to judge" not in alpha


def test_the_figures_summed_in_the_database_equal_those_of_the_pure_functions(
    db, app, world, loaded, take_quiz, make_user
):
    """A class with random draws of 4 of the 7 questions, random answers and questions
    left unsaved: every figure of the page equals ``itemstats`` on the raw scores."""
    rng = random.Random(7)
    acme = world["learner"].organisation
    bank = [q["id"] for q in module_version(db).questions]
    attempts = []
    for _ in range(24):
        learner = make_user("learner", acme)
        for _retake in range(rng.choice([1, 1, 2])):
            drawn = rng.sample(bank, 4)
            given = {qid: rng.choice([RIGHT, WRONG])[qid] for qid in drawn if rng.random() < 0.85}
            attempts.append((learner.id, take_quiz(learner, given, drawn=drawn)))
    firsts = {}
    for user_id, attempt in attempts:
        firsts.setdefault(user_id, attempt)
    first = sorted(firsts.values(), key=lambda a: a.id)
    scores = [{a.question_id: a.score for a in attempt.answers} for attempt in first]
    totals = [attempt.score_raw for attempt in first]
    with app.test_request_context():
        found = results.module_results(db.session.get(Module, "alpha"), results.Scope([acme.id]))
    assert found.test.attempts == 24
    for item in found.items:
        qid = item.question["id"]
        had = [i for i, attempt in enumerate(first) if qid in [d["id"] for d in attempt.draw]]
        xs = [scores[i].get(qid, 0.0) for i in had]
        assert item.figures.drawn == len(had)
        assert item.figures.facility == pytest.approx(itemstats.facility(xs))
        expected = itemstats.item_rest_correlation(xs, [totals[i] for i in had])
        assert item.figures.discrimination == (
            None if expected is None else pytest.approx(expected)
        )
        column = [scores[i].get(qid, 0.0) if i in had else None for i in range(len(first))]
        expected = itemstats.upper_lower_index(column, totals)
        assert item.figures.index == (None if expected is None else pytest.approx(expected))
    by_position = [
        [scores[i].get(entry["id"], 0.0) for entry in attempt.draw]
        for i, attempt in enumerate(first)
    ]
    assert found.test.reliability_basis == "positions"
    assert found.test.reliability == pytest.approx(itemstats.cronbach_alpha(by_position))
    shares = [attempt.score_scaled for attempt in first]
    assert found.test.median == pytest.approx(itemstats.median(shares))
    assert found.test.sd == pytest.approx(itemstats.standard_deviation(shares))
