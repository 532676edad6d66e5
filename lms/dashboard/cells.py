"""Pure rules of the matrix: one cell's status from a learner's batched records.

No database here: ``matrix.py`` loads the records of a page of learners at once and
these functions turn them into cells, so a page costs the same queries for 10 or 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lms.progress.rules import expires_soon, module_status
from lms.quiz.rules import PastAttempt, attempt_window

#: Cell statuses; ``expiring`` is a pass that ends within 30 days.
CELL_STATUSES = (
    "not_started",
    "in_progress",
    "completed",
    "passed",
    "expiring",
    "failed",
    "locked",
    "expired",
)
#: Sorting by a column puts what needs a trainer's attention first.
ATTENTION_ORDER = {
    code: rank
    for rank, code in enumerate(
        (
            "expired",
            "expiring",
            "failed",
            "locked",
            "in_progress",
            "completed",
            "not_started",
            "passed",
        )
    )
}


@dataclass(frozen=True)
class Cell:
    #: One of ``CELL_STATUSES``.
    status: str
    #: Best scaled score (0..1), or None.
    best_score: float | None = None
    #: When the current qualification ends (or ended), or None.
    valid_until: datetime | None = None
    #: ``locked``: the end of the cooldown (None: no attempts left).
    locked_until: datetime | None = None


@dataclass(frozen=True)
class ModuleRecords:
    """What the matrix knows of one learner in one module."""

    enrolled: bool = False
    read_slugs: frozenset[str] = frozenset()
    open_attempt: bool = False
    #: Submitted attempts, oldest first.
    past: Sequence[PastAttempt] = ()
    qualification_until: datetime | None = None


def module_cell(
    records: ModuleRecords, lesson_slugs: frozenset[str], settings: dict[str, Any], now: datetime
) -> Cell:
    """The cell of one learner in one module (the progress feature's status rules)."""
    window = attempt_window(settings, records.past, now)
    status = module_status(
        enrolled=records.enrolled,
        lessons_read=len(records.read_slugs & lesson_slugs),
        lessons_total=len(lesson_slugs),
        open_attempt=records.open_attempt,
        past=records.past,
        window=window,
        qualification_until=records.qualification_until,
        now=now,
    )
    code = status.code
    if code == "passed" and expires_soon(records.qualification_until, now):
        code = "expiring"
    scores = [attempt.score_scaled for attempt in records.past]
    return Cell(
        status=code,
        best_score=max(scores) if scores else None,
        valid_until=records.qualification_until,
        locked_until=status.until if code == "locked" else None,
    )


def practical_cell(outcome: str | None, booked: bool) -> Cell:
    """The cell of one learner in one practical type: the effective sign-off's outcome
    (``pass``/``fail``), else a live booking (in progress), else not started."""
    if outcome == "pass":
        return Cell("passed")
    if outcome == "fail":
        return Cell("failed")
    return Cell("in_progress" if booked else "not_started")


def attention_rank(cell: Cell | None) -> int:
    return ATTENTION_ORDER.get(cell.status if cell else "not_started", len(ATTENTION_ORDER))
