"""Translated names of the practicals' vocabularies."""

from flask_babel import lazy_gettext as _l

ROOM_LABELS = {
    "clean-room-grade-a": _l("Clean room, grade A"),
    "clean-room-grade-b": _l("Clean room, grade B"),
    "clean-room-grade-c": _l("Clean room, grade C"),
    "clean-room-grade-d": _l("Clean room, grade D"),
    "atex-hall": _l("ATEX hall"),
    "instrumentation-lab": _l("Instrumentation laboratory"),
    "laboratory": _l("Laboratory"),
    "workshop": _l("Workshop"),
}
OUTCOME_LABELS = {"pass": _l("Pass"), "fail": _l("Fail")}
MEANING_LABELS = {
    "performed-and-approved-by": _l("Assessment performed and approved by"),
    "approved-by": _l("Approved by"),
}
STATE_LABELS = {
    "booked": _l("Booked"),
    "waiting": _l("Waiting list"),
    "cancelled": _l("Cancelled"),
}
