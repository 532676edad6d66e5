"""Cohort forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length


class CohortForm(FlaskForm):
    name = StringField(_l("Name of the cohort"), validators=[DataRequired(), Length(2, 120)])
    #: Offered to a centre admin only; others create in their own organisation.
    organisation = SelectField(_l("Organisation"), coerce=int, validate_choice=False)
    submit = SubmitField(_l("Create the cohort"))


class RenameForm(FlaskForm):
    name = StringField(_l("New name"), validators=[DataRequired(), Length(2, 120)])
    submit = SubmitField(_l("Rename"))


class AddMemberForm(FlaskForm):
    learner = SelectField(_l("Learner"), validators=[DataRequired()], validate_choice=False)
    submit = SubmitField(_l("Add to the cohort"))


class MemberActionForm(FlaskForm):
    """Remove a learner; archive or restore (the button's form carries only CSRF)."""

    learner = HiddenField()
