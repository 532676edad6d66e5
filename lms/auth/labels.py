"""Translated names of the account vocabularies, for forms and pages."""

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

ROLE_LABELS = {"learner": _l("Learner"), "trainer": _l("Trainer"), "admin": _l("Administrator")}
CATEGORY_LABELS = {
    "worker": _l("Worker"),
    "job_seeker": _l("Job-seeker"),
    "student": _l("Student"),
    "teacher": _l("Teacher"),
}
SECTOR_LABELS = {"biopharma": _l("Biopharmaceutical"), "chemistry": _l("Chemistry")}
LANGUAGE_LABELS = {"en": "English", "fr": "Français"}
ACTOR_MODE_LABELS = {
    "account": _l("Account (opaque identifier)"),
    "mbox": _l("E-mail address (mbox)"),
}


def choices(labels: dict, *, blank: str | None = None) -> list[SelectChoice]:
    """Select-field choices from a label map, optionally led by an empty choice."""
    items = [SelectChoice(key, label) for key, label in labels.items()]
    return ([SelectChoice("", blank)] if blank is not None else []) + items
