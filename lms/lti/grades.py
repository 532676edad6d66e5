"""Grade passback, first half: when a quiz attempt is graded, queue the score owed to
each platform grade book the learner reached the module from.

``attempt_graded`` is called by the quiz service in the grading transaction, beside
its ``xapi.record`` calls: the ``ScorePost`` rows commit, or roll back, with the graded
attempt. ``lms.lti.delivery`` sends them afterwards (see why there).
"""

from __future__ import annotations

import sqlalchemy as sa

from lms.db_types import utcnow
from lms.extensions import db
from lms.lti import claims
from lms.lti.models import LinkMember, ResourceLink, ScorePost
from lms.quiz.models import Attempt


def can_post_scores(link: ResourceLink) -> bool:
    """True when the platform lets us post scores for this link (to its line item, or to
    one we may create in its context)."""
    scopes = set(link.ags_scopes or [])
    if claims.SCORE_SCOPE not in scopes:
        return False
    return bool(link.lineitem_url or (link.lineitems_url and claims.LINEITEM_SCOPE in scopes))


def best_attempt(user_id: int, module_id: str) -> Attempt | None:
    """The learner's best graded attempt at the module (the latest of equal scores)."""
    return db.session.scalar(
        sa.select(Attempt)
        .where(Attempt.user_id == user_id, Attempt.module_id == module_id)
        .where(Attempt.state == "submitted", Attempt.score_max > 0)
        .order_by(Attempt.score_scaled.desc(), Attempt.submitted_at.desc(), Attempt.id.desc())
        .limit(1)
    )


def attempt_graded(attempt: Attempt) -> list[ScorePost]:
    """Queue the learner's score for every resource link of the module they launched.

    The score is their best attempt so far (as a quiz's default "highest grade" in
    Moodle), stamped with this attempt's submission time so the platform keeps it as
    the latest. Returns the queued rows (none for a learner who never came through LTI).
    """
    rows = db.session.execute(
        sa.select(LinkMember, ResourceLink)
        .join(ResourceLink, ResourceLink.id == LinkMember.link_id)
        .where(LinkMember.user_id == attempt.user_id, ResourceLink.module_id == attempt.module_id)
    ).all()
    rows = [(member, link) for member, link in rows if can_post_scores(link)]
    best = best_attempt(attempt.user_id, attempt.module_id) if rows else None
    if best is None:
        return []
    now = utcnow()
    posts = [
        ScorePost(
            link_id=link.id,
            member_id=member.id,
            attempt_id=attempt.id,
            score_given=best.score_raw or 0.0,
            score_maximum=best.score_max,
            scored_at=attempt.submitted_at,
            next_attempt_at=now,
            queued_at=now,
        )
        for member, link in rows
    ]
    db.session.add_all(posts)
    db.session.flush()
    return posts
