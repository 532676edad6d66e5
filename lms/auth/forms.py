"""Forms of the accounts feature."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from lms.auth.labels import (
    ACTOR_MODE_LABELS,
    CATEGORY_LABELS,
    LANGUAGE_LABELS,
    ROLE_LABELS,
    SECTOR_LABELS,
    choices,
)

EMAIL_LENGTH = Length(max=254, message=_l("An e-mail address has at most 254 characters."))
NAME_LENGTH = Length(min=1, max=120, message=_l("Use between 1 and 120 characters."))
FOLLOW_BROWSER = _l("Same as my browser")


def email_field(label=None):
    return EmailField(
        label or _l("E-mail address"),
        validators=[
            DataRequired(),
            EMAIL_LENGTH,
            Email(message=_l("Enter a valid e-mail address."), check_deliverability=False),
        ],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
    )


def new_password_field(label):
    return PasswordField(label, validators=[DataRequired(), Length(max=256)])


class PasswordRules:
    """Checks a new password against the configured minimum length."""

    def __call__(self, form, field):
        minimum = current_app.config["PASSWORD_MIN_LENGTH"]
        if len(field.data or "") < minimum:
            raise ValidationError(_l("Use at least %(count)d characters.", count=minimum))


def confirm_field(other: str, label=None):
    return PasswordField(
        label or _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo(other, message=_l("The two passwords differ."))],
    )


class LoginForm(FlaskForm):
    email = email_field()
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class RegistrationForm(FlaskForm):
    organisation = SelectField(_l("Organisation"), validators=[InputRequired()])
    display_name = StringField(_l("Your name"), validators=[DataRequired(), NAME_LENGTH])
    email = email_field()
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(max=256), PasswordRules()]
    )
    confirm = confirm_field("password", _l("Repeat the password"))
    learner_category = SelectField(
        _l("I am a"), choices=choices(CATEGORY_LABELS), validators=[InputRequired()]
    )
    sector = SelectField(
        _l("Sector"),
        choices=choices(SECTOR_LABELS, blank=_l("Not specified")),
        validators=[Optional()],
    )
    language = SelectField(_l("Language"), choices=choices(LANGUAGE_LABELS, blank=FOLLOW_BROWSER))


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), NAME_LENGTH])
    language = SelectField(_l("Language"), choices=choices(LANGUAGE_LABELS, blank=FOLLOW_BROWSER))


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=256)]
    )
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=256), PasswordRules()]
    )
    confirm = confirm_field("new_password")


class ForgotPasswordForm(FlaskForm):
    email = email_field()


class ResetPasswordForm(FlaskForm):
    """The new password chosen through a reset link: the rules of ``PasswordChangeForm``."""

    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(max=256), PasswordRules()]
    )
    confirm = confirm_field("new_password")


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=choices(LANGUAGE_LABELS))


class UserForm(FlaskForm):
    """An admin's form for one account; ``password`` is only asked when creating."""

    email = email_field()
    display_name = StringField(_l("Name"), validators=[DataRequired(), NAME_LENGTH])
    role = SelectField(_l("Role"), choices=choices(ROLE_LABELS))
    organisation = SelectField(_l("Organisation"), validators=[InputRequired()])
    learner_category = SelectField(
        _l("Learner category"), choices=choices(CATEGORY_LABELS, blank=_l("None"))
    )
    sector = SelectField(_l("Sector"), choices=choices(SECTOR_LABELS, blank=_l("Not specified")))
    language = SelectField(_l("Language"), choices=choices(LANGUAGE_LABELS, blank=FOLLOW_BROWSER))
    password = PasswordField(
        _l("Initial password"), validators=[DataRequired(), Length(max=256), PasswordRules()]
    )


class UserEditForm(UserForm):
    password = None


SLUG_RULE = Regexp(
    r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
    message=_l("Use lower-case letters, digits and hyphens (at most 64)."),
)


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), NAME_LENGTH])
    slug = StringField(_l("Short name (used in addresses)"), validators=[DataRequired(), SLUG_RULE])
    actor_mode = SelectField(
        _l("Learners appear in xAPI statements by"), choices=choices(ACTOR_MODE_LABELS)
    )
    self_registration = BooleanField(_l("Anyone may register as a learner of this organisation"))


class OrganisationEditForm(OrganisationForm):
    slug = None


class ConfirmForm(FlaskForm):
    """A form with nothing but its CSRF token, for buttons that change state."""
