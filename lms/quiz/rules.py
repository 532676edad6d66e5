"""The attempt rules as pure functions: attempts left, cooldown, deadline, pass."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class PastAttempt:
    submitted_at: datetime
    passed: bool
    score_scaled: float


@dataclass(frozen=True)
class Window:
    """Whether a learner may start an attempt now, and if not, why and until when."""

    #: Failed attempts since the last pass (a pass starts a new cycle of attempts).
    used: int
    #: None when the module sets no maximum.
    left: int | None
    #: The end of the wait after the last failed attempt, when it is still running.
    cooldown_until: datetime | None
    #: None (may start), ``"cooldown"`` or ``"no_attempts_left"``.
    blocked: str | None


def attempt_window(settings: dict[str, Any], past: Sequence[PastAttempt], now: datetime) -> Window:
    """The window for a new attempt given the submitted attempts in time order."""
    cycle: list[PastAttempt] = []
    for attempt in past:
        cycle = [] if attempt.passed else [*cycle, attempt]
    used = len(cycle)
    maximum = settings.get("max_attempts")
    left = None if maximum is None else max(0, maximum - used)
    cooldown_until = None
    minutes = settings.get("cooldown_minutes") or 0
    if past and not past[-1].passed and minutes:
        end = past[-1].submitted_at + timedelta(minutes=minutes)
        cooldown_until = end if end > now else None
    blocked = None
    if left == 0:
        blocked = "no_attempts_left"
    elif cooldown_until is not None:
        blocked = "cooldown"
    return Window(used, left, cooldown_until, blocked)


def deadline_for(settings: dict[str, Any], started_at: datetime) -> datetime | None:
    """When an attempt started at ``started_at`` must be in, or None without a limit."""
    minutes = settings.get("time_limit_minutes")
    return started_at + timedelta(minutes=minutes) if minutes else None


def has_passed(settings: dict[str, Any], raw: float, maximum: float) -> bool:
    """True when ``raw`` out of ``maximum`` reaches the pass mark (a share, 0..1)."""
    if maximum <= 0:
        return False
    return raw / maximum >= float(settings["pass_mark"]) - 1e-9
