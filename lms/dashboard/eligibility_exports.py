"""The sessions pages' tables as CSV documents (see ``csvexport`` for the file format)."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.dashboard.csvexport import to_csv
from lms.dashboard.eligibility import BlockedLearner, Line, SessionEligibility, SessionLine
from lms.dashboard.exports import _learner_fields, _learner_header
from lms.practicals import wording
from lms.practicals.labels import STATE_LABELS
from lms.practicals.rules import MissingCondition
from lms.practicals.wording import localized

#: The state column of a session's roster.
ROSTER_STATES = {
    "booked": STATE_LABELS["booked"],
    "waiting": STATE_LABELS["waiting"],
    "eligible": _l("Eligible, not booked"),
    "not_yet": _l("Not eligible yet"),
}


def missing_text(items: Sequence[MissingCondition], names: wording.Names) -> str:
    """What is missing, in the practicals' words, on one line; the branches of a "one of"
    group are separated by " | " and the conditions of one branch by " + "."""
    parts = []
    for item in items:
        if item.condition is not None:
            parts.append(wording.missing(item, names))
            continue
        branches = " | ".join(missing_text(branch, names) for branch in item.alternatives)
        parts.append(f"{wording.missing(item, names)} {branches}")
    return " + ".join(parts)


def sessions_csv(lines: Sequence[SessionLine]) -> str:
    """One line per upcoming session."""
    header = [
        _("Practical"),
        _("Starts"),
        _("Ends"),
        _("Room"),
        _("Trainer"),
        _("Organisation"),
        _("Capacity"),
        _("Booked"),
        _("Waiting"),
        _("Eligible, not booked"),
    ]
    rows = [
        [
            localized(line.session.practical_type.title),
            line.session.starts_at,
            line.session.ends_at,
            line.session.room,
            line.session.trainer.display_name,
            line.session.organisation.name,
            line.session.capacity,
            line.booked,
            line.waiting,
            line.eligible,
        ]
        for line in lines
    ]
    return to_csv(header, rows)


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def _roster_row(state: str, line: Line, names: wording.Names, said: dict[int, str]) -> list:
    # Learners with the same records share one evaluation: word what it misses once.
    if id(line.evaluation) not in said:
        said[id(line.evaluation)] = missing_text(line.evaluation.missing, names)
    return [
        str(ROSTER_STATES[state]),
        line.booking.position if state == "waiting" else None,
        *_learner_fields(line.learner),
        _yes_no(line.checked_in) if state == "booked" else None,
        _yes_no(line.evaluation.eligible),
        said[id(line.evaluation)],
    ]


def roster_csv(found: SessionEligibility, names: wording.Names) -> str:
    """Every learner of the session page, each with a state: booked, waiting (with their
    place in the queue), eligible but not booked, not eligible yet (with what is missing)."""
    header = [
        _("State"),
        _("Position on the waiting list"),
        *_learner_header(),
        _("Checked in"),
        _("Eligible on the day"),
        _("Missing"),
    ]
    groups = {
        "booked": found.booked,
        "waiting": found.waiting,
        "eligible": found.eligible,
        "not_yet": found.not_yet,
    }
    said: dict[int, str] = {}
    rows = [
        _roster_row(state, line, names, said) for state, lines in groups.items() for line in lines
    ]
    return to_csv(header, rows)


def blocked_csv(items: Sequence[BlockedLearner], names: wording.Names) -> str:
    """One line per learner, practical and module to renew."""
    header = [_("Practical"), *_learner_header(), _("Module to pass again"), _("Counted until")]
    rows = [
        [
            localized(item.practical_type.title),
            *_learner_fields(item.learner),
            names.module(renewal.module_id),
            renewal.ended_at.date(),
        ]
        for item in items
        for renewal in item.renewals
    ]
    return to_csv(header, rows)
