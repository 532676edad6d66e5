"""Forms of the catalog pages."""

from __future__ import annotations

from flask_wtf import FlaskForm


class ConfirmForm(FlaskForm):
    """Nothing but a CSRF token, for buttons that change state (mark as read, retire)."""
