"""Forms of the practicals feature. Choices are filled in by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


def signature_field():
    return PasswordField(_l("Your password (signature)"), validators=[DataRequired()])


class ActionForm(FlaskForm):
    """A button that posts (book, cancel, check in): CSRF protection only."""


class SessionForm(FlaskForm):
    practical_type = SelectField(_l("Practical"), validators=[DataRequired()])
    organisation = SelectField(_l("Organisation"), coerce=int, validators=[InputRequired()])
    starts_at = DateTimeLocalField(
        _l("Starts at"), format="%Y-%m-%dT%H:%M", validators=[DataRequired()]
    )
    room = StringField(_l("Room"), validators=[DataRequired(), Length(max=120)])
    trainer = SelectField(_l("Trainer"), coerce=int, validators=[InputRequired()])
    capacity = IntegerField(
        _l("Capacity (seats)"), validators=[Optional(), NumberRange(min=1, max=200)]
    )
    booking_closes_hours = IntegerField(
        _l("Booking closes (hours before the start)"),
        validators=[Optional(), NumberRange(min=0, max=24 * 30)],
    )
    notes = TextAreaField(_l("Notes for learners"), validators=[Length(max=4000)])


class SignOffForm(FlaskForm):
    outcome = RadioField(
        _l("Outcome"),
        choices=[SelectChoice("pass", _l("Pass")), SelectChoice("fail", _l("Fail"))],
        validators=[InputRequired()],
    )
    comments = TextAreaField(_l("Comments"), validators=[Length(max=4000)])
    #: The sign-off being corrected (empty for the first sign-off).
    corrects = HiddenField()
    password = signature_field()


class WaiverForm(FlaskForm):
    condition = SelectField(_l("Condition to waive"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(min=5, max=4000)])
    password = signature_field()
