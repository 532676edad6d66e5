"""Qualifications that end soon, for the learners a member of staff may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from lms.auth.models import User
from lms.dashboard import batch, scope
from lms.extensions import db

#: The windows a trainer may pick, in days.
WINDOWS = (30, 60, 90)


@dataclass(frozen=True)
class ExpiringQualification:
    learner: User
    module_id: str
    module_title: dict[str, str]
    valid_until: datetime
    days_left: int
    code: str


def window_days(value) -> int:
    """The requested window if it is one of ``WINDOWS``; else the first."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return WINDOWS[0]
    return days if days in WINDOWS else WINDOWS[0]


def expiring(
    actor: User, days: int, now: datetime, organisation: int | None = None
) -> list[ExpiringQualification]:
    """Current qualifications of the learners ``actor`` may see that are valid now and
    end within ``days`` days, soonest first (a fixed number of queries; only the
    qualifications in the window and their learners are loaded)."""
    learners = scope.restrict(
        sa.select(User.id).where(User.role == "learner", User.active.is_(True)),
        User.organisation_id,
        scope.organisation_ids(actor, organisation),
    )
    found = batch.expiry_window(learners, now, now + timedelta(days=days))
    if not found:
        return []
    people = db.session.scalars(
        sa.select(User)
        .where(User.id.in_(sorted({q.user_id for q in found})))
        .options(sa.orm.selectinload(User.organisation))
    )
    by_id = {user.id: user for user in people}
    titles = {m.id: m.current_version.title for m in batch.columns().modules}
    return [
        ExpiringQualification(
            learner=by_id[q.user_id],
            module_id=q.module_id,
            module_title=titles.get(q.module_id, {"en": q.module_id}),
            valid_until=q.valid_until,
            days_left=max((q.valid_until - now).days, 0),
            code=q.code,
        )
        for q in found
    ]
