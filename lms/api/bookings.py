"""Booking and cancelling on a learner's behalf, for a host platform's token.

The practicals' booking service does the work (capacity under its lock, the waiting
list, xAPI statements, its audit records); this adds the token's checks, names each
refusal with a stable code for the client, and audits that the API acted. Flushes;
the request commits.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from lms import audit
from lms.api.models import ApiToken
from lms.auth.models import User
from lms.errors import RuleError
from lms.practicals import booking as booking_rules
from lms.practicals import policy
from lms.practicals.errors import PracticalError
from lms.practicals.models import Booking, PracticalSession
from lms.practicals.rules import Evaluation

#: Refusals that conflict with the session's or booking's current state (HTTP 409);
#: the others are rule refusals (HTTP 422).
CONFLICTS = frozenset(
    {
        "already_booked",
        "session_cancelled",
        "booking_closed",
        "already_cancelled",
        "session_started",
        "conflict",
    }
)


class BookingRefused(RuleError):
    """The booking or cancellation is refused: ``code`` says why, for programs;
    ``evaluation`` holds what the learner misses when not eligible."""

    def __init__(self, code: str, message, evaluation: Evaluation | None = None):
        super().__init__(message)
        self.code = code
        self.evaluation = evaluation

    @property
    def is_conflict(self) -> bool:
        return self.code in CONFLICTS


def book_for(token: ApiToken, session: PracticalSession, learner: User, now: datetime) -> Booking:
    """Book ``learner`` on ``session`` (a seat, or the waiting list when it is full).

    Raises ``PermissionError`` for a token without write scope and ``BookingRefused``
    when the learner may not book this session (``not_allowed``), does not meet its
    prerequisites (``not_eligible``), already holds a booking (``already_booked``), or
    the session is cancelled or closed to booking.
    """
    if not token.allows("write"):
        raise PermissionError("the token may only read")
    if not learner.active or not policy.can_book(learner, session):
        raise BookingRefused("not_allowed", _l("This learner may not book this session."))
    if session.is_cancelled:
        raise BookingRefused("session_cancelled", _l("This session has been cancelled."))
    if not booking_rules.is_open(session, now):
        raise BookingRefused("booking_closed", _l("Booking for this session has closed."))
    if booking_rules.live_booking(session, learner) is not None:
        raise BookingRefused("already_booked", _l("The learner has already booked this session."))
    evaluation = booking_rules.evaluation_for(session, learner)
    if not evaluation.eligible:
        raise BookingRefused(
            "not_eligible",
            _l("The learner does not meet the prerequisites of this session yet."),
            evaluation,
        )
    try:
        made = booking_rules.book(session, learner, now)
    except PracticalError as error:
        raise BookingRefused("conflict", error.message) from error
    _audit("api.booking.created", made, token, state=made.state)
    return made


def cancel_for(token: ApiToken, held: Booking, now: datetime) -> Booking:
    """Cancel the learner's booking ``held``; a freed seat goes to the waiting list.

    Raises ``PermissionError`` for a token without write scope and ``BookingRefused``
    when it is already cancelled or the session has started.
    """
    if not token.allows("write"):
        raise PermissionError("the token may only read")
    if held.state == "cancelled":
        raise BookingRefused("already_cancelled", _l("This booking is already cancelled."))
    if now >= held.session.starts_at:
        raise BookingRefused(
            "session_started", _l("The session has started; it can no longer be cancelled.")
        )
    try:
        booking_rules.cancel(held, held.learner, now)
    except PracticalError as error:
        raise BookingRefused("conflict", error.message) from error
    _audit("api.booking.cancelled", held, token)
    return held


def _audit(action: str, held: Booking, token: ApiToken, **details) -> None:
    audit.record(
        action,
        actor_label=f"api:{token.prefix}",
        organisation_id=token.organisation_id,
        target_type="practical_booking",
        target_id=held.id,
        details={
            "token": token.prefix,
            "token_name": token.name,
            "session": held.session.public_id,
            "learner": held.learner.public_id,
            **details,
        },
    )
