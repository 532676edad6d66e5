"""Pure progress rules: validity periods and the status of a learner in a module."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from lms.quiz.rules import PastAttempt, Window

STATUSES = (
    "not_started",
    "in_progress",
    "completed",
    "passed",
    "failed",
    "locked",
    "expired",
)
#: A valid qualification this close to its end is shown as expiring soon.
EXPIRY_WARNING = timedelta(days=30)


def add_months(moment: datetime, months: int) -> datetime:
    """``moment`` plus ``months`` calendar months; the day is clamped to the month's end
    (31 January + 1 month = 28 or 29 February)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def expires_soon(valid_until: datetime | None, now: datetime) -> bool:
    return valid_until is not None and now < valid_until <= now + EXPIRY_WARNING


@dataclass(frozen=True)
class Status:
    #: One of ``STATUSES``.
    code: str
    #: ``passed``: valid until; ``locked``: the cooldown's end (None: no attempts left);
    #: ``expired``: when it expired.
    until: datetime | None = None


def module_status(
    *,
    enrolled: bool,
    lessons_read: int,
    lessons_total: int,
    open_attempt: bool,
    past: Sequence[PastAttempt],
    window: Window,
    qualification_until: datetime | None,
    now: datetime,
) -> Status:
    """The status of one learner in one module (see ``STATUSES``).

    A valid qualification wins (a failed refresher does not undo it); otherwise a
    failed last attempt gives ``locked`` (cooldown running or no attempts left) or
    ``failed``; then an expired qualification gives ``expired``; then reading gives
    ``completed`` (every lesson read, quiz not passed yet), ``in_progress`` or
    ``not_started``.
    """
    if qualification_until is not None and now < qualification_until:
        return Status("passed", qualification_until)
    if past and not past[-1].passed and not open_attempt:
        if window.blocked == "cooldown":
            return Status("locked", window.cooldown_until)
        if window.blocked == "no_attempts_left":
            return Status("locked", None)
        return Status("failed")
    if qualification_until is not None:
        return Status("expired", qualification_until)
    if open_attempt:
        return Status("in_progress")
    if lessons_total and lessons_read >= lessons_total:
        return Status("completed")
    if enrolled or lessons_read:
        return Status("in_progress")
    return Status("not_started")
