"""Quiz fixtures: the catalog's test packages, the people, and a clock tests can move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.catalog.conftest import as_role, loaded, module_root, sync_modules, world  # noqa: F401


class Clock:
    """``clock.advance(minutes=61)``: the time every quiz and progress rule reads."""

    def __init__(self, start: datetime):
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@pytest.fixture()
def clock(monkeypatch):
    from lms.quiz import clock as quiz_clock

    fake = Clock(datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setattr(quiz_clock, "now", fake.now)
    return fake
