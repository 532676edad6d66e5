"""Learner pages (My training, certificates), the public verification page, and the
trainer's view and correction of a learner's qualifications."""

from __future__ import annotations

from datetime import UTC, datetime, time

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.auth import policy
from lms.auth.decorators import role_required
from lms.auth.models import User
from lms.core.forms import show_refusal
from lms.extensions import db
from lms.progress import qualifications, services
from lms.progress.forms import CorrectionForm
from lms.progress.qualifications import QualificationError
from lms.quiz import clock

bp = Blueprint(
    "progress",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/progress-static",
)


@bp.route("/my-training")
@login_required
def my_training():
    rows = services.settled_training(current_user)
    return render_template("progress/my_training.html", rows=rows, now=clock.now())


def _qualification_or_404(code: str, *, for_owner_or_staff: bool = True):
    qualification = qualifications.find_by_code(code)
    if qualification is None:
        abort(404)
    if for_owner_or_staff and not policy.can_view_user(current_user, qualification.user):
        abort(404)
    return qualification


@bp.route("/qualifications/<code>/certificate")
@login_required
def certificate(code: str):
    qualification = _qualification_or_404(code)
    return render_template(
        "progress/certificate.html",
        q=qualification,
        state=verification_state(qualification),
        verify_url=current_app.config["PUBLIC_BASE_URL"].rstrip("/")
        + url_for("progress.verify", code=qualification.code),
    )


def verification_state(qualification) -> str:
    """``valid``, ``expired``, ``corrected`` (a newer record replaces it) or ``withdrawn``."""
    if qualifications.corrected_by(qualification) is not None:
        return "corrected"
    if qualification.valid_until <= qualification.issued_at:
        return "withdrawn"
    return "valid" if qualification.is_valid_at(clock.now()) else "expired"


@bp.route("/verify/<code>")
def verify(code: str):
    qualification = _qualification_or_404(code, for_owner_or_staff=False)
    return render_template(
        "progress/verify.html",
        q=qualification,
        state=verification_state(qualification),
        correction=qualifications.corrected_by(qualification),
    )


def _learner_or_404(public_id: str) -> User:
    learner = db.session.scalar(sa.select(User).where(User.public_id == public_id))
    if learner is None or not qualifications.can_correct(current_user, learner):
        abort(404)
    return learner


@bp.route("/people/<public_id>/training")
@role_required("trainer", "admin")
def learner_training(public_id: str):
    learner = _learner_or_404(public_id)
    rows = services.settled_training(learner)
    return render_template("progress/learner.html", learner=learner, rows=rows, now=clock.now())


@bp.route("/people/<public_id>/qualifications/<code>/correct", methods=["GET", "POST"])
@role_required("trainer", "admin")
def correct(public_id: str, code: str):
    learner = _learner_or_404(public_id)
    qualification = _qualification_or_404(code)
    if qualification.user_id != learner.id:
        abort(404)
    form = CorrectionForm()
    if form.validate_on_submit():
        until = datetime.combine(form.valid_until.data, time.min, tzinfo=UTC)
        try:
            qualifications.correct(
                qualification,
                by=current_user,
                password=form.password.data,
                valid_until=until,
                reason=form.reason.data,
                now=clock.now(),
            )
        except QualificationError as error:
            show_refusal(form, error)
        else:
            db.session.commit()
            flash(_("The correction is recorded."), "success")
            return redirect(url_for("progress.learner_training", public_id=learner.public_id))
    elif not form.is_submitted():
        form.valid_until.data = qualification.valid_until.date()
    return render_template("progress/correct.html", form=form, learner=learner, q=qualification)
