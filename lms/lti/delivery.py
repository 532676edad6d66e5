"""Grade passback, second half: send queued scores to the platforms' AGS endpoints.

Run by ``flask --app wsgi lms lti scores send`` (one pass, or ``--loop`` as a worker
beside the xAPI worker). Why an outbox and a worker rather than a POST after the
request's commit: the score is written in the grading transaction, so it is never
sent for an attempt that rolled back and never lost when the process dies after the
commit or the platform is down for a day; no learner waits on a platform's token
endpoint; failures are kept, retried with back-off and shown to admins.

A pass claims due rows with a lease (``next_attempt_at`` moved ahead and committed;
``FOR UPDATE SKIP LOCKED`` on PostgreSQL so workers never claim the same row), then
sends them with no transaction open during the HTTP calls, each of which has a
time-out. A crashed worker's rows are due again when the lease ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
import sqlalchemy as sa
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.exception import LtiException, LtiServiceException
from pylti1p3.grade import Grade
from pylti1p3.lineitem import LineItem
from pylti1p3.service_connector import ServiceConnector

from lms import audit
from lms.db_types import utcnow
from lms.extensions import db
from lms.lti.deep_linking import LINE_ITEM_MAXIMUM
from lms.lti.models import Platform, ResourceLink, ScorePost
from lms.lti.tool import http_session, registration_for
from lms.xapi.delivery import backoff_delay, parse_retry_after

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
#: A score still refused after this long is set aside as failed (an admin may resend it).
MAX_RETRY_AGE = timedelta(days=3)
BACKOFF_BASE = 30.0
BACKOFF_MAX = 3600.0
#: Scores claimed by one pass.
CLAIM_SIZE = 50


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def settled(self) -> int:
        return self.sent + self.retried + self.failed


@dataclass(frozen=True)
class Outcome:
    """``sent``, ``retry`` (with an optional delay asked by the platform) or ``failed``."""

    kind: str
    error: str = ""
    retry_after: float | None = None


def claim_due(now: datetime, limit: int = CLAIM_SIZE) -> list[int]:
    """Ids of due pending scores, leased to this worker; commits the lease."""
    query = (
        sa.select(ScorePost.id)
        .where(ScorePost.status == "pending", ScorePost.next_attempt_at <= now)
        .order_by(ScorePost.next_attempt_at, ScorePost.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(
            sa.update(ScorePost)
            .where(ScorePost.id.in_(ids))
            .values(next_attempt_at=now + LEASE)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    return ids


def send_due(now: datetime | None = None, limit: int = CLAIM_SIZE) -> SendReport:
    """Send the scores due at ``now``; settle and commit each one. Returns the counts."""
    now = now or utcnow()
    report = SendReport()
    session = http_session()
    connectors: dict[int, ServiceConnector] = {}
    try:
        for post_id in claim_due(now, limit):
            post = db.session.get(ScorePost, post_id)
            outcome = send(post, connectors, session)
            settle(post, outcome, now, report)
            db.session.commit()
    finally:
        session.close()
    return report


def send(post: ScorePost, connectors: dict, session: requests.Session) -> Outcome:
    """POST one score (creating the link's line item first when the platform gave none)."""
    link = post.link
    platform = link.platform
    if not platform.enabled:
        return Outcome("retry", "the platform is switched off here")
    if platform.id not in connectors:
        connectors[platform.id] = ServiceConnector(registration_for(platform), session)
    service = AssignmentsGradesService(
        connectors[platform.id],
        {"scope": link.ags_scopes, "lineitem": link.lineitem_url, "lineitems": link.lineitems_url},
    )
    try:
        if not link.lineitem_url:
            link.lineitem_url = _line_item(service, link)
            service = AssignmentsGradesService(
                connectors[platform.id],
                {"scope": link.ags_scopes, "lineitem": link.lineitem_url},
            )
        service.put_grade(_grade(post))
    except LtiServiceException as error:
        return _classify(error.response, platform.auth_token_url)
    except LtiException as error:
        return Outcome("failed", str(error))
    except (requests.RequestException, ValueError, KeyError) as error:
        return Outcome("retry", f"{type(error).__name__}: {error}")
    return Outcome("sent")


def _grade(post: ScorePost) -> Grade:
    return (
        Grade()
        .set_score_given(post.score_given)
        .set_score_maximum(post.score_maximum)
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_timestamp(post.scored_at.isoformat(timespec="milliseconds"))
        .set_user_id(post.member.identity.subject)
    )


def _line_item(service: AssignmentsGradesService, link: ResourceLink) -> str:
    """The id (URL) of the link's line item, found by resource link or created."""
    title = link.module.current_version.title if link.module.current_version else {}
    wanted = (
        LineItem()
        .set_label(link.title or title.get("en") or link.module_id)
        .set_score_maximum(LINE_ITEM_MAXIMUM)
        .set_resource_id(link.module_id)
        .set_resource_link_id(link.link_id)
        .set_tag("quiz")
    )
    found = service.find_or_create_lineitem(wanted, find_by="resource_link_id")
    if not found.get_id():
        raise LtiException("the platform returned a line item without an id")
    return found.get_id()


def _classify(response: requests.Response, token_url: str) -> Outcome:
    status = response.status_code
    text = " ".join((response.text or "").split())[:200]
    error = f"HTTP {status} from {response.url}: {text}"
    if status in (408, 429) or status >= 500:
        return Outcome("retry", error, parse_retry_after(response.headers.get("Retry-After")))
    if status in (401, 403) or response.url.startswith(token_url):
        # The token or our key refused: often passing (a platform's cached copy of our
        # JWKS after a rotation); retried until MAX_RETRY_AGE.
        return Outcome("retry", error)
    return Outcome("failed", error)


def settle(post: ScorePost, outcome: Outcome, now: datetime, report: SendReport) -> None:
    """Record the outcome of one try on the row."""
    post.tries += 1
    if outcome.kind == "sent":
        post.status, post.sent_at, post.last_error = "sent", now, None
        report.sent += 1
        return
    post.last_error = outcome.error[:500]
    if outcome.kind == "failed" or now - post.queued_at >= MAX_RETRY_AGE:
        post.status = "failed"
        report.failed += 1
        log.warning("LTI score %s failed: %s", post.id, post.last_error)
        return
    delay = backoff_delay(post.tries, base=BACKOFF_BASE, ceiling=BACKOFF_MAX)
    post.next_attempt_at = now + timedelta(seconds=max(delay, outcome.retry_after or 0.0))
    report.retried += 1


def resend_failed(platform: Platform, *, by, now: datetime | None = None) -> int:
    """Put the platform's failed scores back in the queue; audited; returns how many."""
    now = now or utcnow()
    links = sa.select(ResourceLink.id).where(ResourceLink.platform_id == platform.id)
    done = db.session.execute(
        sa.update(ScorePost)
        .where(ScorePost.status == "failed", ScorePost.link_id.in_(links))
        .values(status="pending", next_attempt_at=now, queued_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount:
        audit.record(
            "lti.scores.resent",
            actor=by,
            organisation_id=platform.organisation_id,
            target_type="lti_platform",
            target_id=platform.id,
            details={"scores": done.rowcount},
        )
    return done.rowcount
