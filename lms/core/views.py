"""Home page, language switcher and the load balancer's health check."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from lms.auth import services as accounts
from lms.auth.forms import LanguageForm
from lms.auth.views import safe_next
from lms.extensions import db

bp = Blueprint("core", __name__, template_folder="templates")
log = logging.getLogger(__name__)


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    return render_template("core/home.html")


@bp.route("/language", methods=["POST"])
def set_language():
    """Switch the interface language; a logged-in user's choice is remembered."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["language"] = form.language.data
        if current_user.is_authenticated:
            accounts.set_language(current_user, form.language.data)
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("core.home"))


@bp.route("/healthz")
def healthz():
    """200 when the database answers, 503 otherwise (for load balancers)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        log.exception("health check: database unavailable")
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
