"""The learner's records a rule is evaluated against, read from the database.

The only place in this feature that reads another feature's tables (the progress
feature's qualifications). Everything else works on ``rules.LearnerRecords``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import sqlalchemy as sa

from lms.extensions import db
from lms.practicals.models import SignOff, Waiver
from lms.practicals.rules import LearnerRecords, QualificationRecord


def qualification_records(user_id: int) -> list[QualificationRecord]:
    """Every pass of the learner that no correction replaced and that was not withdrawn
    (a correction valid until its issue date withdraws it)."""
    from lms.progress.models import Qualification

    corrected = sa.select(Qualification.corrects_id).where(Qualification.corrects_id.is_not(None))
    rows = db.session.scalars(
        sa.select(Qualification)
        .where(Qualification.user_id == user_id, Qualification.id.not_in(corrected))
        .where(Qualification.valid_until > Qualification.issued_at)
    )
    return [
        QualificationRecord(row.module_id, row.score_scaled, row.issued_at, row.valid_until)
        for row in rows
    ]


def effective_sign_offs() -> sa.Select:
    """Sign-offs that no correction replaced."""
    corrected = sa.select(SignOff.corrects_id).where(SignOff.corrects_id.is_not(None))
    return sa.select(SignOff).where(SignOff.id.not_in(corrected))


def signed_off_types(user_id: int) -> dict[str, datetime]:
    """Practical type id -> when the learner's latest effective passing sign-off was signed."""
    query = (
        effective_sign_offs()
        .where(SignOff.learner_id == user_id, SignOff.outcome == "pass")
        .with_only_columns(SignOff.type_id, sa.func.max(SignOff.signed_at))
        .group_by(SignOff.type_id)
    )
    return {type_id: signed_at for type_id, signed_at in db.session.execute(query).all()}  # noqa: C416


def waived_keys(user_id: int, type_id: str) -> frozenset[str]:
    """Keys of the conditions of ``type_id`` waived for the learner."""
    return frozenset(
        db.session.scalars(
            sa.select(Waiver.condition_key).where(
                Waiver.learner_id == user_id, Waiver.type_id == type_id
            )
        )
    )


def waived_keys_by_type(user_id: int) -> dict[str, frozenset[str]]:
    """Practical type id -> keys of its conditions waived for the learner (one query)."""
    found: dict[str, set[str]] = {}
    rows = db.session.execute(
        sa.select(Waiver.type_id, Waiver.condition_key).where(Waiver.learner_id == user_id)
    )
    for type_id, key in rows:
        found.setdefault(type_id, set()).add(key)
    return {type_id: frozenset(keys) for type_id, keys in found.items()}


def learner_records(user) -> LearnerRecords:
    """The learner's records, without waivers (see ``for_type``)."""
    return LearnerRecords(
        qualifications=tuple(qualification_records(user.id)),
        signed_off=signed_off_types(user.id),
        role=user.role,
        learner_category=user.learner_category,
    )


def for_type(
    records: LearnerRecords,
    user,
    type_id: str,
    waivers: dict[str, frozenset[str]] | None = None,
) -> LearnerRecords:
    """``records`` with the waivers the learner holds for ``type_id`` (read from
    ``waivers``, as ``waived_keys_by_type`` returns them, when given)."""
    if waivers is not None:
        return replace(records, waived=waivers.get(type_id, frozenset()))
    return replace(records, waived=waived_keys(user.id, type_id))
