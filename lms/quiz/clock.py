"""The time the quiz and progress rules read: ``clock.now()``.

Tests replace ``now`` (``monkeypatch.setattr(clock, "now", ...)``) to move time forward
without sleeping; callers always go through the module attribute.
"""

from __future__ import annotations

from datetime import datetime

from lms.db_types import utcnow


def now() -> datetime:
    """The current time, aware, in UTC."""
    return utcnow()
