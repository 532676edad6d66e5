"""Forms of the privacy feature."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, Length


class PseudonymiseForm(FlaskForm):
    """The admin confirms, and signs with their own password."""

    understood = BooleanField(
        _l("I understand that this cannot be undone"),
        validators=[DataRequired(message=_l("Tick this box to confirm."))],
    )
    password = PasswordField(
        _l("Your password, to sign this action"), validators=[DataRequired(), Length(max=256)]
    )


class ExportForm(FlaskForm):
    """Only a CSRF token: the button that downloads a person's data."""
