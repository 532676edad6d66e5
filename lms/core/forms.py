"""Form helpers shared by the features' views."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm

from lms.auth.signatures import SignatureRefused
from lms.errors import RuleError
from lms.extensions import db


def attach_error(form: FlaskForm, error: RuleError) -> None:
    """Undo the refused change and show why, beside the form field it names or as a message."""
    db.session.rollback()
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, str(error)]
    else:
        flash(str(error), "error")


def show_refusal(form: FlaskForm, error: RuleError) -> None:
    """Show why the rules refused a form: a refused signature keeps its audit record
    (committed) and is shown at the password field; anything else is undone."""
    if isinstance(error, SignatureRefused):
        db.session.commit()
        form.password.errors = [*form.password.errors, str(error)]
    else:
        attach_error(form, error)
