"""Forms of the xAPI feature: LRS endpoints."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    URLField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from lms.xapi.models import XAPI_VERSIONS

_strip = [lambda value: value.strip() if isinstance(value, str) else value]


class EndpointForm(FlaskForm):
    """An LRS endpoint. Key and secret are write-only: never filled in from the database."""

    organisation = SelectField(_l("Organisation"), validators=[InputRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)], filters=_strip)
    url = URLField(
        _l("LRS address (xAPI base URL)"),
        validators=[DataRequired(), Length(max=1024)],
        filters=_strip,
    )
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=255)], filters=_strip)
    secret = PasswordField(_l("Secret"), validators=[DataRequired(), Length(max=512)])
    xapi_version = SelectField(
        _l("xAPI version"), choices=[SelectChoice(v, v) for v in XAPI_VERSIONS], default="1.0.3"
    )
    batch_size = IntegerField(
        _l("Statements per request"), validators=[InputRequired(), NumberRange(1, 1000)]
    )
    enabled = BooleanField(_l("Deliver statements to this LRS"), default=True)
    backfill = BooleanField(_l("Also send the statements recorded before today"))


class EndpointEditForm(EndpointForm):
    """Editing keeps the stored key and secret unless new ones are typed in."""

    organisation = None
    backfill = None
    key = StringField(_l("New key"), validators=[Optional(), Length(max=255)], filters=_strip)
    secret = PasswordField(_l("New secret"), validators=[Optional(), Length(max=512)])


class ActionForm(FlaskForm):
    """Only a CSRF token: for the buttons that change something."""
