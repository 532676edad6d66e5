"""Attempt rules: attempts left, cooldown, deadline, pass mark (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lms.quiz.rules import PastAttempt, attempt_window, deadline_for, has_passed

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SETTINGS = {"max_attempts": 3, "cooldown_minutes": 60, "time_limit_minutes": 30, "pass_mark": 0.8}


def failed(minutes_ago: int) -> PastAttempt:
    return PastAttempt(NOW - timedelta(minutes=minutes_ago), False, 0.5)


def passed(minutes_ago: int) -> PastAttempt:
    return PastAttempt(NOW - timedelta(minutes=minutes_ago), True, 0.9)


@pytest.mark.parametrize(
    "past,used,left,blocked",
    [
        ([], 0, 3, None),
        ([failed(120)], 1, 2, None),
        ([failed(30)], 1, 2, "cooldown"),
        ([failed(300), failed(200), failed(100)], 3, 0, "no_attempts_left"),
        ([failed(300), failed(200), passed(100)], 0, 3, None),
        ([failed(300), passed(200), failed(100)], 1, 2, None),
    ],
)
def test_attempt_window(past, used, left, blocked):
    window = attempt_window(SETTINGS, past, NOW)
    assert (window.used, window.left, window.blocked) == (used, left, blocked)


def test_cooldown_ends_an_hour_after_the_failed_attempt():
    window = attempt_window(SETTINGS, [failed(20)], NOW)
    assert window.cooldown_until == NOW + timedelta(minutes=40)
    assert attempt_window(SETTINGS, [failed(60)], NOW).cooldown_until is None


def test_unlimited_attempts_and_no_cooldown():
    settings = {"max_attempts": None, "cooldown_minutes": 0}
    window = attempt_window(settings, [failed(1)] * 10, NOW)
    assert (window.left, window.blocked, window.cooldown_until) == (None, None, None)


def test_deadline_and_pass_mark():
    assert deadline_for(SETTINGS, NOW) == NOW + timedelta(minutes=30)
    assert deadline_for({"time_limit_minutes": None}, NOW) is None
    assert has_passed(SETTINGS, 12, 15)
    assert not has_passed(SETTINGS, 11.9, 15)
    assert not has_passed(SETTINGS, 0, 0)
