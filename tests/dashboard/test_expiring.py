"""Qualifications ending in the next 30, 60 or 90 days, on a page and as CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from lms.dashboard.csvexport import BOM
from lms.progress.models import Qualification


@pytest.fixture()
def passes(db, world, make_user, loaded, record_attempt, clock):
    org = world["learner"].organisation
    people = {}
    for name, days in [("Soon", 10), ("Later", 45), ("Quarter", 80), ("Safe", 200)]:
        people[name] = make_user("learner", org, display_name=name)
        record_attempt(people[name], "alpha", 0.9, passed=True, valid_days=days)
    people["Gone"] = make_user("learner", org, display_name="Gone")
    record_attempt(
        people["Gone"],
        "alpha",
        0.9,
        passed=True,
        at=clock.now() - timedelta(days=30),
        valid_days=20,
    )
    return people


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ("30", ["Soon"]),
        ("60", ["Soon", "Later"]),
        ("90", ["Soon", "Later", "Quarter"]),
        ("7", ["Soon"]),
    ],
)
def test_the_window_selector(as_role, passes, days, expected):
    client = as_role("trainer")
    html = client.get(f"/dashboard/expiring?days={days}").get_data(as_text=True)
    shown = [name for name in passes if f">{name}</a>" in html]
    assert sorted(shown) == sorted(expected)
    text = client.get(f"/dashboard/expiring.csv?days={days}").get_data(as_text=True)
    assert text.startswith(BOM)
    header, *rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert header[-3:] == ["Module", "Valid until", "Days left"]
    assert [r[0] for r in rows] == expected  # soonest first
    assert rows[0][-1] in ("9", "10")


def test_a_withdrawing_correction_removes_the_qualification(db, as_role, passes, world, clock):
    current = db.session.query(Qualification).filter_by(user_id=passes["Soon"].id).one()
    db.session.add(
        Qualification(
            kind="correction",
            user_id=current.user_id,
            module_id="alpha",
            version_id=current.version_id,
            attempt_id=current.attempt_id,
            score_scaled=0.9,
            issued_at=current.issued_at,
            valid_until=current.issued_at,
            corrects_id=current.id,
            reason="Wrong person",
            author_id=world["trainer"].id,
        )
    )
    db.session.commit()
    html = as_role("trainer").get("/dashboard/expiring?days=30").get_data(as_text=True)
    assert ">Soon</a>" not in html
