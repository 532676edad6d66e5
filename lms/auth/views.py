"""Log-in, log-out, self-registration and a user's own account pages."""

from __future__ import annotations

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import SelectChoice

from lms.auth import services
from lms.auth.forms import (
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RegistrationForm,
)
from lms.auth.models import Organisation
from lms.core.forms import attach_error
from lms.extensions import db, limiter

bp = Blueprint("auth", __name__, template_folder="templates")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or any(ord(c) < 32 for c in target):
        return None
    return target


def _login_failure_key() -> str:
    """Rate-limit key for failed log-ins: the claimed account and the client address."""
    email = services.normalise_email(request.form.get("email", ""))[:254]
    return f"login:{email}:{request.remote_addr}"


def _failed_login(_response) -> bool:
    return bool(g.get("login_failed"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURE_LIMIT"],
    key_func=_login_failure_key,
    methods=["POST"],
    deduct_when=_failed_login,
    error_message="login",
)
@limiter.limit(lambda: current_app.config["LOGIN_ADDRESS_LIMIT"], methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")) or url_for("core.home"))
        g.login_failed = True
        db.session.commit()
        flash(_("The e-mail address or password is not correct."), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.record_logout(current_user)
    db.session.commit()
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


def _open_organisations() -> list[Organisation]:
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.self_registration.is_(True))
            .order_by(Organisation.name)
        )
    )


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    organisations = _open_organisations()
    form = RegistrationForm()
    form.organisation.choices = [SelectChoice(org.slug, org.name) for org in organisations]
    if request.method == "GET" and request.args.get("organisation"):
        form.organisation.data = request.args["organisation"]
    if form.validate_on_submit():
        org = services.find_organisation(form.organisation.data)
        try:
            user = services.register(
                organisation=org,
                email=form.email.data,
                display_name=form.display_name.data,
                password=form.password.data,
                learner_category=form.learner_category.data,
                sector=form.sector.data or None,
                language=form.language.data or None,
            )
        except services.AccountError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            login_user(user)
            flash(_("Welcome! Your account is ready."), "success")
            return redirect(url_for("core.home"))
    return render_template("auth/register.html", form=form, organisations=organisations)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = ProfileForm(obj=current_user)
    if request.method == "GET":
        form.language.data = current_user.language or ""
    if form.validate_on_submit():
        services.update_profile(
            current_user, display_name=form.display_name.data, language=form.language.data or None
        )
        db.session.commit()
        flash(_("Your details are saved."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordChangeForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        try:
            services.change_password(user, form.current_password.data, form.new_password.data)
        except services.AccountError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            login_user(user)  # keep this session: it now carries the new version
            flash(_("Your password is changed. Other devices have been logged out."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/password.html", form=form)
