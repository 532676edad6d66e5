"""The trainer's correction of a qualification."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, PasswordField, TextAreaField
from wtforms.validators import DataRequired, Length


class CorrectionForm(FlaskForm):
    valid_until = DateField(_l("Valid until"), validators=[DataRequired()])
    reason = TextAreaField(
        _l("Reason for the correction"), validators=[DataRequired(), Length(5, 1000)]
    )
    password = PasswordField(
        _l("Your password, to sign the correction"), validators=[DataRequired()]
    )
