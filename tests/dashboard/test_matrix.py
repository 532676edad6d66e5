"""The progress matrix: statuses in words, filters, sorting, pages, and its CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from lms.dashboard import cohorts
from lms.dashboard.csvexport import BOM


def cells(html: str, learner) -> dict[str, str]:
    """Column key -> status code of the learner's row."""
    row = re.search(rf'<tr data-learner="{learner.public_id}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {learner.display_name}"
    return dict(re.findall(r'data-column="([^"]+)" data-status="([^"]+)"', row.group(1)))


def rows_of(html: str) -> list[str]:
    return re.findall(r'<tr data-learner="([^"]+)">', html)


def read_csv(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text.removeprefix(BOM))))


@pytest.fixture()
def people(db, world, make_user, loaded, record_attempt, clock):
    """Acme learners in every status of alpha."""
    org = world["learner"].organisation
    names = ["Ana", "Ben", "Cleo", "Dan", "Eve"]
    ana, ben, cleo, dan, eve = (
        make_user("learner", org, display_name=n, learner_category=c, sector=s)
        for n, c, s in zip(
            names,
            ["worker", "job_seeker", "worker", "student", "worker"],
            ["biopharma", "chemistry", "biopharma", None, None],
            strict=True,
        )
    )
    record_attempt(ana, "alpha", 0.95, passed=True)
    record_attempt(ben, "alpha", 0.9, passed=True, valid_days=10)
    record_attempt(cleo, "alpha", 0.3, passed=False)
    record_attempt(dan, "alpha", 0.8, passed=True, at=clock.now() - timedelta(days=400))
    return {"ana": ana, "ben": ben, "cleo": cleo, "dan": dan, "eve": eve}


def test_each_cell_shows_status_score_and_expiry_in_words(as_role, people):
    html = as_role("trainer").get("/dashboard/").get_data(as_text=True)
    assert cells(html, people["ana"])["module:alpha"] == "passed"
    assert cells(html, people["ben"])["module:alpha"] == "expiring"
    assert cells(html, people["cleo"])["module:alpha"] in ("failed", "locked")
    assert cells(html, people["dan"])["module:alpha"] == "expired"
    assert cells(html, people["eve"])["module:alpha"] == "not_started"
    assert "Best 95 %" in html and "Expiring" in html and "Expired" in html
    assert "<caption" in html and 'scope="col"' in html and 'scope="row"' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=job_seeker", {"ben"}),
        ("sector=biopharma", {"ana", "cleo"}),
        ("status=expiring&column=module:alpha", {"ben"}),
        ("status=expired", {"dan"}),
        ("status=passed&column=module:alpha", {"ana"}),
        ("category=worker&status=passed", {"ana"}),
    ],
)
def test_filters(as_role, people, query, expected):
    html = as_role("trainer").get(f"/dashboard/?{query}").get_data(as_text=True)
    shown = set(rows_of(html))
    assert shown == {people[name].public_id for name in expected}


def test_cohort_filter_shows_only_its_members(db, as_role, people, world):
    cohort = cohorts.create_cohort(world["trainer"].organisation, "March", by=world["trainer"])
    cohorts.add_member(cohort, people["eve"].public_id, by=world["trainer"])
    db.session.commit()
    html = as_role("trainer").get(f"/dashboard/?cohort={cohort.public_id}").get_data(as_text=True)
    assert rows_of(html) == [people["eve"].public_id]


def test_sort_by_a_module_puts_attention_first(as_role, people):
    html = as_role("trainer").get("/dashboard/?sort=module:alpha").get_data(as_text=True)
    order = rows_of(html)
    assert order[0] == people["dan"].public_id  # expired
    assert order[1] == people["ben"].public_id  # expiring
    assert order[-1] == people["ana"].public_id  # passed
    by_name = rows_of(as_role("trainer").get("/dashboard/?sort=name").get_data(as_text=True))
    assert by_name.index(people["ana"].public_id) < by_name.index(people["eve"].public_id)


def test_bad_parameters_are_ignored(as_role, people):
    client = as_role("trainer")
    for query in [
        "status=nonsense",
        "sort=module:nope",
        "page=-3",
        "page=abc",
        "column=x&status=passed",
    ]:
        assert client.get(f"/dashboard/?{query}").status_code == 200, query


def test_fifty_learners_a_page(as_role, world, many_learners, loaded):
    many_learners(world["learner"].organisation, 120)
    client = as_role("trainer")
    first = client.get("/dashboard/").get_data(as_text=True)
    assert len(rows_of(first)) == 50 and "Page 1 of 3" in first
    last = client.get("/dashboard/?page=3").get_data(as_text=True)
    assert len(rows_of(last)) == 121 - 100  # the 120 and world's learner
    assert not set(rows_of(first)) & set(rows_of(last))


def test_centre_admin_sees_every_organisation_and_may_pick_one(as_role, people, world):
    client = as_role("centre_admin")
    everyone = set(rows_of(client.get("/dashboard/").get_data(as_text=True)))
    assert world["other_learner"].public_id in everyone and people["ana"].public_id in everyone
    org_id = world["other_learner"].organisation_id
    picked = rows_of(client.get(f"/dashboard/?organisation={org_id}").get_data(as_text=True))
    assert picked == [world["other_learner"].public_id]


def test_csv_export_respects_the_filters(as_role, people):
    response = as_role("trainer").get("/dashboard/matrix.csv?sector=biopharma")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header[:2] == ["Learner", "E-mail"]
    assert header[5:8] == [
        "Alpha basics: status",
        "Alpha basics: best score (%)",
        "Alpha basics: valid until",
    ]
    assert sorted(r[0] for r in rows) == ["Ana", "Cleo"]
    ana = next(r for r in rows if r[0] == "Ana")
    assert ana[5] == "Passed" and ana[6] == "95"


def test_csv_neutralises_formulas_in_names(as_role, make_user, world, loaded):
    make_user("learner", world["learner"].organisation, display_name="=HYPERLINK(1)")
    _header, *rows = read_csv(as_role("trainer").get("/dashboard/matrix.csv"))
    assert "'=HYPERLINK(1)" in [r[0] for r in rows]


def test_every_status_has_its_symbol_in_the_stylesheet_and_cells_stay_lean(as_role, people):
    """A cell carries its status in words; its symbol comes from the stylesheet (the one
    of ``STATUS_SYMBOLS``, hidden from screen readers), not from markup repeated in
    thousands of cells."""
    from lms.dashboard.labels import STATUS_SYMBOLS

    client = as_role("trainer")
    stylesheet = client.get("/dashboard/dashboard-static/dashboard.css")
    css = stylesheet.get_data(as_text=True)
    stylesheet.close()
    for code, symbol in STATUS_SYMBOLS.items():
        assert f'.matrix td[data-status={code}]::before {{ content: "{symbol}" / ""; }}' in css
    html = client.get("/dashboard/").get_data(as_text=True)
    row = re.search(rf'<tr data-learner="{people["eve"].public_id}">(.*?)</tr>', html, re.S)
    assert '<td data-column="module:alpha" data-status="not_started">Not started</td>' in (
        row.group(1)
    )
    assert 'aria-hidden="true">○' not in row.group(1)
