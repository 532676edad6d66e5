"""The xAPI learning events of practicals (registered, cancel, attended, passed, failed,
waived), handed to ``xapi.record`` in the transaction of the event itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lms import xapi
from lms.practicals.models import Booking, PracticalSession, PracticalType


def practical_activity(practical: PracticalType) -> xapi.Activity:
    return xapi.Activity(
        kind="practical",
        path=f"practicals/{practical.id}",
        name=practical.title,
        description=practical.summary or None,
    )


def session_activity(session: PracticalSession) -> xapi.Activity:
    day = session.starts_at.strftime("%Y-%m-%d %H:%M UTC")
    title = session.practical_type.title
    return xapi.Activity(
        kind="practical-session",
        path=f"practicals/{session.type_id}/sessions/{session.public_id}",
        name={language: f"{text} · {day} · {session.room}" for language, text in title.items()},
    )


def record(
    kind: str,
    booking: Booking,
    *,
    at: datetime,
    instructor=None,
    result: xapi.Result | None = None,
    extensions: dict[str, Any] | None = None,
) -> None:
    """Write the statement of a booking's event: ``practical.registered`` and the rest."""
    session = booking.session
    xapi.record(
        xapi.LearningEvent(
            kind=kind,
            learner=booking.learner,
            activity=session_activity(session),
            parent=practical_activity(session.practical_type),
            occurred_at=at,
            registration=booking.registration,
            instructor=instructor,
            result=result,
            extensions=extensions,
        )
    )


def record_waiver(
    learner, practical: PracticalType, condition_key: str, reason: str, *, by, at: datetime
) -> None:
    """``prerequisite.waived`` about the practical type, the reason in result extensions."""
    xapi.record(
        xapi.LearningEvent(
            kind="prerequisite.waived",
            learner=learner,
            activity=practical_activity(practical),
            occurred_at=at,
            instructor=by,
            result=xapi.Result(extensions={"reason": reason, "condition": condition_key}),
        )
    )
