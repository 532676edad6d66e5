"""Forms of the API token pages."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from lms.db_types import utcnow

SCOPE_LABELS = {
    "read": _l("Read: modules, progress, eligibility, sessions, statements"),
    "write": _l("Read and write: also book and cancel sessions for learners"),
}

_strip = [lambda value: value.strip() if isinstance(value, str) else value]


class TokenForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), validators=[InputRequired()])
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=120)],
        filters=_strip,
        description=_l("Which platform or integration uses it, e.g. “Moodle production”."),
    )
    scope = SelectField(
        _l("Access"),
        choices=[SelectChoice(key, label) for key, label in SCOPE_LABELS.items()],
        default="read",
    )
    expires_on = DateField(
        _l("Expires on (optional)"),
        validators=[Optional()],
        description=_l("The token stops working at the start of this day (UTC)."),
    )

    def validate_expires_on(self, field) -> None:
        if field.data is not None and field.data <= utcnow().date():
            raise ValidationError(_l("The expiry date must be in the future."))

    @property
    def expires_at(self) -> datetime | None:
        return expiry_moment(self.expires_on.data)


def expiry_moment(day: date | None) -> datetime | None:
    """The start of ``day`` in UTC, when a token expiring that day stops working."""
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None


class ActionForm(FlaskForm):
    """Only a CSRF token: for the revoke buttons."""
