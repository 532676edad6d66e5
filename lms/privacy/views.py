"""Privacy pages: download my data; pseudonymise a former learner (admins)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.auth import policy
from lms.auth.decorators import role_required
from lms.auth.models import User
from lms.core.forms import show_refusal
from lms.errors import RuleError
from lms.extensions import db
from lms.privacy import services
from lms.privacy.forms import ExportForm, PseudonymiseForm

bp = Blueprint("privacy", __name__, template_folder="templates")


@bp.route("/account/export", methods=["POST"])
@login_required
def export():
    """Download everything the service holds about me, as a JSON file."""
    if not ExportForm().validate_on_submit():
        abort(400)
    exported = services.export(current_user._get_current_object())
    db.session.commit()
    return Response(
        exported.content,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )


def _learner_or_404(public_id: str) -> User:
    """A learner ``current_user`` administers; 404 for anyone else."""
    user = db.session.scalar(sa.select(User).where(User.public_id == public_id))
    if user is None or user.role != "learner" or not policy.can_manage_user(current_user, user):
        abort(404)
    return user


@bp.route("/people/<public_id>/pseudonymise", methods=["GET", "POST"])
@role_required("admin")
def pseudonymise(public_id: str):
    learner = _learner_or_404(public_id)
    if learner.is_pseudonymised:
        flash(_("This account is already pseudonymised."), "info")
        return redirect(url_for("people.edit_user", public_id=public_id))
    form = PseudonymiseForm()
    if form.validate_on_submit():
        try:
            done = services.pseudonymise(learner, by=current_user, password=form.password.data)
        except RuleError as error:
            show_refusal(form, error)
        else:
            db.session.commit()
            _report(learner, done)
            return redirect(url_for("people.edit_user", public_id=public_id))
    return render_template(
        "privacy/pseudonymise.html",
        learner=learner,
        form=form,
        preview=services.preview(learner),
        pseudonym=services.pseudonym(learner),
    )


def _report(learner: User, done: services.Pseudonymised) -> None:
    flash(
        _(
            "%(name)s is pseudonymised: name and e-mail address erased, training records "
            "kept. %(voided)d learning statements that need not stay are being voided.",
            name=learner.display_name,
            voided=done.statements.voided,
        ),
        "success",
    )
    if done.bookings_cancelled:
        flash(
            _(
                "%(count)d upcoming practical bookings were cancelled.",
                count=done.bookings_cancelled,
            ),
            "info",
        )
    holding = done.statements.holding_email
    if holding:
        flash(
            _(
                "These LRSs had already received statements carrying the e-mail address, "
                "which this service cannot recall: %(lrs)s. Ask their operators to erase them.",
                lrs=", ".join(f"{name} ({count})" for name, count in holding.items()),
            ),
            "warning",
        )
