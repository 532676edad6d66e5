"""The matrix cell rules, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lms.dashboard.cells import Cell, ModuleRecords, attention_rank, module_cell, practical_cell
from lms.quiz.rules import PastAttempt

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
LESSONS = frozenset({"one", "two"})
FAIL = PastAttempt(NOW - timedelta(minutes=5), False, 0.3)
PASS = PastAttempt(NOW - timedelta(days=1), True, 0.9)


@pytest.mark.parametrize(
    ("records", "settings", "status"),
    [
        (ModuleRecords(), {}, "not_started"),
        (ModuleRecords(enrolled=True), {}, "in_progress"),
        (ModuleRecords(read_slugs=frozenset(LESSONS)), {}, "completed"),
        (ModuleRecords(open_attempt=True), {}, "in_progress"),
        (ModuleRecords(past=(FAIL,)), {}, "failed"),
        (ModuleRecords(past=(FAIL,)), {"cooldown_minutes": 60}, "locked"),
        (ModuleRecords(past=(FAIL,)), {"max_attempts": 1}, "locked"),
        (ModuleRecords(past=(PASS,), qualification_until=NOW + timedelta(days=200)), {}, "passed"),
        (ModuleRecords(past=(PASS,), qualification_until=NOW + timedelta(days=30)), {}, "expiring"),
        (ModuleRecords(past=(PASS,), qualification_until=NOW - timedelta(days=1)), {}, "expired"),
        (
            ModuleRecords(past=(PASS, FAIL), qualification_until=NOW + timedelta(days=90)),
            {},
            "passed",
        ),
    ],
)
def test_module_cell_status(records, settings, status):
    assert module_cell(records, LESSONS, settings, NOW).status == status


def test_module_cell_keeps_best_score_expiry_and_lock_end():
    cell = module_cell(ModuleRecords(past=(FAIL,)), LESSONS, {"cooldown_minutes": 60}, NOW)
    assert cell.best_score == 0.3 and cell.locked_until == FAIL.submitted_at + timedelta(hours=1)
    until = NOW + timedelta(days=100)
    cell = module_cell(
        ModuleRecords(past=(FAIL, PASS), qualification_until=until), LESSONS, {}, NOW
    )
    assert cell.best_score == 0.9 and cell.valid_until == until


@pytest.mark.parametrize(
    ("outcome", "booked", "status"),
    [
        (None, False, "not_started"),
        (None, True, "in_progress"),
        ("pass", True, "passed"),
        ("fail", False, "failed"),
    ],
)
def test_practical_cell(outcome, booked, status):
    assert practical_cell(outcome, booked).status == status


def test_attention_puts_expired_first_and_passed_last():
    order = sorted(
        ["passed", "not_started", "expired", "expiring"], key=lambda s: attention_rank(Cell(s))
    )
    assert order == ["expired", "expiring", "not_started", "passed"]
