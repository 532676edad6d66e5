"""Translated words of the dashboards: cell statuses and column kinds."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "completed": _l("Lessons read, quiz not passed yet"),
    "passed": _l("Passed"),
    "expiring": _l("Passed, expires within 30 days"),
    "failed": _l("Failed"),
    "locked": _l("Locked"),
    "expired": _l("Expired"),
}
#: Short forms for the matrix's cells (the full words are in the legend and title).
STATUS_SHORT = {
    "not_started": _l("Not started"),
    "in_progress": _l("In progress"),
    "completed": _l("Lessons read"),
    "passed": _l("Passed"),
    "expiring": _l("Expiring"),
    "failed": _l("Failed"),
    "locked": _l("Locked"),
    "expired": _l("Expired"),
}
#: A symbol beside the words, so the status never rests on colour alone.
STATUS_SYMBOLS = {
    "not_started": "○",
    "in_progress": "◐",
    "completed": "◑",
    "passed": "✓",
    "expiring": "⚠",
    "failed": "✗",
    "locked": "⊘",
    "expired": "⊖",
}
