"""Forms of the LTI pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

_strip = [lambda value: value.strip() if isinstance(value, str) else value]


def _url(label, description, required=True):
    return StringField(
        label,
        validators=[DataRequired() if required else Optional(), Length(max=500)],
        filters=_strip,
        description=description,
    )


class PlatformForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), validators=[InputRequired()])
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=120)],
        filters=_strip,
        description=_l("How you call this platform, e.g. “Moodle of the Lyon site”."),
    )
    issuer = _url(
        _l("Issuer"),
        _l("The platform's issuer (iss), an https:// address, e.g. https://moodle.example.org."),
    )
    client_id = StringField(
        _l("Client id"),
        validators=[DataRequired(), Length(max=255)],
        filters=_strip,
        description=_l("The client id the platform gave this tool."),
    )
    deployment_ids = TextAreaField(
        _l("Deployment ids"),
        validators=[DataRequired()],
        description=_l("One per line, as the platform shows them."),
    )
    auth_login_url = _url(
        _l("Authentication request URL"),
        _l("Where the platform signs the person in (OIDC authorisation endpoint)."),
    )
    auth_token_url = _url(
        _l("Access token URL"), _l("The platform's OAuth 2 token endpoint, for sending grades.")
    )
    auth_audience = _url(
        _l("Access token audience (optional)"),
        _l("Only if the platform asks for another audience than the token URL."),
        required=False,
    )
    keyset_url = _url(
        _l("Public keyset URL"), _l("Where the platform publishes its public keys (JWKS).")
    )

    def deployment_list(self) -> list[str]:
        data = self.deployment_ids.data or ""
        if not isinstance(data, str):  # not posted: the platform's own list (``obj=``)
            return [str(item) for item in data]
        return data.splitlines()


class ConfirmForm(FlaskForm):
    """The CSRF token of a button (enable, disable, resend, rotate)."""


class ModuleChoiceForm(FlaskForm):
    """A teacher's choice of module (deep linking). It is posted from a platform's
    frame, where our session cookie does not go: the single-use launch token in the
    URL stands in for the session's CSRF token."""

    class Meta:
        csrf = False

    module = RadioField(
        _l("Module"), validators=[InputRequired(message=_l("Choose a module."))], choices=[]
    )
