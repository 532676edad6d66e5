"""Issuing, correcting and reading qualifications.

Only adds records: a renewal or a correction is a new row; nothing is updated. The
quiz engine calls ``issue_for_pass`` in the submitting transaction.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from lms import audit
from lms.auth import policy
from lms.auth.signatures import SignatureRefused, signature_is_valid
from lms.errors import RuleError
from lms.extensions import db
from lms.progress.models import Qualification
from lms.progress.rules import add_months


class QualificationError(RuleError):
    """A correction the rules refuse; the message is for the person."""


class SignatureError(SignatureRefused, QualificationError):
    """The re-entered password is not the signer's: nothing is signed."""


def issue_for_pass(attempt, validity_months: int, now: datetime) -> Qualification:
    """Issue the qualification earned by the passed ``attempt`` (added, flushed, audited).

    Valid for ``validity_months`` from ``now``; an earlier qualification of the same
    module is left as it is and simply stops being the newest (a renewal).
    """
    qualification = Qualification(
        kind="pass",
        user_id=attempt.user_id,
        module_id=attempt.module_id,
        version_id=attempt.version_id,
        attempt_id=attempt.id,
        score_scaled=attempt.score_scaled,
        issued_at=now,
        valid_until=add_months(now, validity_months),
    )
    db.session.add(qualification)
    db.session.flush()
    audit.record(
        "progress.qualification.issued",
        actor=attempt.user,
        target_type="qualification",
        target_id=qualification.id,
        details={
            "module": attempt.module_id,
            "version_id": attempt.version_id,
            "attempt": attempt.public_id,
            "score_scaled": attempt.score_scaled,
            "valid_until": qualification.valid_until.isoformat(),
        },
    )
    return qualification


def can_correct(actor, learner) -> bool:
    """A trainer or admin of the learner's organisation, or a centre admin."""
    if policy.is_centre_admin(actor):
        return True
    return actor.role in ("trainer", "admin") and actor.organisation_id == learner.organisation_id


def correct(
    qualification: Qualification,
    *,
    by,
    password: str,
    valid_until: datetime,
    reason: str,
    now: datetime,
) -> Qualification:
    """Issue a correction of ``qualification``: a new record valid until ``valid_until``
    (``now`` or earlier withdraws it), with the reason, signed by ``by`` re-entering
    their password; audited. Returns the new record.

    Raises ``PermissionError`` when ``by`` may not correct this learner's records and
    ``QualificationError`` for a wrong password, an empty reason or a record already
    corrected.
    """
    if not can_correct(by, qualification.user):
        raise PermissionError("not a trainer of the learner's organisation")
    if not signature_is_valid(
        by,
        password,
        action="qualification.correct",
        target_type="qualification",
        target_id=qualification.code,
        details={"learner": qualification.user.public_id},
    ):
        raise SignatureError()
    reason = " ".join((reason or "").split())
    if len(reason) < 5:
        raise QualificationError(_l("Give the reason for the correction."))
    current = current_qualifications(qualification.user).get(qualification.module_id)
    if current is None or current.id != qualification.id:
        raise QualificationError(_l("Only the current record of a module can be corrected."))
    valid_until = max(valid_until, qualification.issued_at)
    correction = Qualification(
        kind="correction",
        user_id=qualification.user_id,
        module_id=qualification.module_id,
        version_id=qualification.version_id,
        attempt_id=qualification.attempt_id,
        score_scaled=qualification.score_scaled,
        issued_at=qualification.issued_at,
        valid_until=valid_until,
        corrects_id=qualification.id,
        reason=reason,
        author_id=by.id,
    )
    db.session.add(correction)
    db.session.flush()
    audit.record(
        "progress.qualification.corrected",
        actor=by,
        organisation_id=qualification.user.organisation_id,
        target_type="qualification",
        target_id=correction.id,
        details={
            "corrects": qualification.id,
            "learner": qualification.user.public_id,
            "module": qualification.module_id,
            "valid_until": [qualification.valid_until.isoformat(), valid_until.isoformat()],
            "reason": reason,
            "corrected_at": now.isoformat(),
        },
    )
    return correction


def corrected_by(qualification: Qualification) -> Qualification | None:
    return db.session.scalar(
        sa.select(Qualification).where(Qualification.corrects_id == qualification.id)
    )


def _current_query(user_ids) -> sa.Select:
    """The newest uncorrected record per learner and module."""
    corrected = sa.select(Qualification.corrects_id).where(Qualification.corrects_id.isnot(None))
    newest = (
        sa.select(sa.func.max(Qualification.id))
        .where(Qualification.user_id.in_(user_ids))
        .where(Qualification.id.not_in(corrected))
        .group_by(Qualification.user_id, Qualification.module_id)
    )
    return sa.select(Qualification).where(Qualification.id.in_(newest))


def current_qualifications(user) -> dict[str, Qualification]:
    """Module id -> the learner's current qualification (valid or expired)."""
    rows = db.session.scalars(_current_query([user.id]))
    return {qualification.module_id: qualification for qualification in rows}


def current_for_users(user_ids: list[int]) -> dict[tuple[int, str], Qualification]:
    """(user id, module id) -> current qualification, for dashboards over many learners."""
    rows = db.session.scalars(_current_query(user_ids)) if user_ids else []
    return {(q.user_id, q.module_id): q for q in rows}


def find_by_code(code: str) -> Qualification | None:
    if not code or len(code) > 32:
        return None
    return db.session.scalar(sa.select(Qualification).where(Qualification.code == code))


def passed_module_ids(user, at: datetime) -> set[str]:
    """Ids of the modules whose current qualification of ``user`` is valid at ``at``."""
    return {
        module_id
        for module_id, qualification in current_qualifications(user).items()
        if qualification.is_valid_at(at)
    }
