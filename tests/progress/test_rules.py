"""Pure progress rules: months, expiry warning, status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lms.progress.rules import add_months, expires_soon, module_status
from lms.quiz.rules import PastAttempt, Window

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OPEN = Window(0, 3, None, None)


@pytest.mark.parametrize(
    "start,months,end",
    [
        (datetime(2026, 1, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2028, 1, 31, tzinfo=UTC), 1, datetime(2028, 2, 29, tzinfo=UTC)),
        (datetime(2026, 3, 15, 9, 30, tzinfo=UTC), 12, datetime(2027, 3, 15, 9, 30, tzinfo=UTC)),
        (datetime(2026, 11, 30, tzinfo=UTC), 3, datetime(2027, 2, 28, tzinfo=UTC)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start, months, end):
    assert add_months(start, months) == end


def test_expires_soon_within_thirty_days():
    assert expires_soon(NOW + timedelta(days=29), NOW)
    assert not expires_soon(NOW + timedelta(days=31), NOW)
    assert not expires_soon(NOW - timedelta(days=1), NOW)


def status(**kwargs):
    values = {
        "enrolled": False,
        "lessons_read": 0,
        "lessons_total": 2,
        "open_attempt": False,
        "past": [],
        "window": OPEN,
        "qualification_until": None,
        "now": NOW,
    }
    values.update(kwargs)
    return module_status(**values)


FAIL = PastAttempt(NOW - timedelta(minutes=10), False, 0.5)
PASS = PastAttempt(NOW - timedelta(days=400), True, 0.9)


@pytest.mark.parametrize(
    "kwargs,code,until",
    [
        ({}, "not_started", None),
        ({"enrolled": True}, "in_progress", None),
        ({"enrolled": True, "lessons_read": 2}, "completed", None),
        ({"enrolled": True, "open_attempt": True, "lessons_read": 2}, "in_progress", None),
        (
            {"past": [FAIL], "window": Window(1, 2, NOW + timedelta(minutes=50), "cooldown")},
            "locked",
            NOW + timedelta(minutes=50),
        ),
        ({"past": [FAIL], "window": Window(3, 0, None, "no_attempts_left")}, "locked", None),
        ({"past": [FAIL], "window": Window(1, 2, None, None)}, "failed", None),
        (
            {"past": [PASS], "qualification_until": NOW + timedelta(days=10)},
            "passed",
            NOW + timedelta(days=10),
        ),
        (
            {"past": [PASS, FAIL], "qualification_until": NOW + timedelta(days=10)},
            "passed",
            NOW + timedelta(days=10),
        ),
        (
            {"past": [PASS], "qualification_until": NOW - timedelta(days=35)},
            "expired",
            NOW - timedelta(days=35),
        ),
    ],
)
def test_module_status(kwargs, code, until):
    result = status(**kwargs)
    assert (result.code, result.until) == (code, until)
