"""Log-in, log-out, self-registration and a user's own account pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import format_time, format_timedelta
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE
from wtforms import SelectChoice

from lms.auth import lockout, mail, resets, services
from lms.auth.forms import (
    ConfirmForm,
    ForgotPasswordForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RegistrationForm,
    ResetPasswordForm,
)
from lms.auth.models import Organisation
from lms.core import errors
from lms.core.forms import attach_error
from lms.db_types import utcnow
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
    return lockout.failure_key(request.form.get("email", ""), request.remote_addr)


def _failed_login(_response) -> bool:
    return bool(g.get("login_failed"))


def _locked_out(request_limit) -> None:
    """The allowance of failed log-ins is used up: remember until when, for the page."""
    g.login_locked_until = datetime.fromtimestamp(request_limit.reset_at, UTC)


def _lock_begins() -> datetime | None:
    """When the failure of this request uses up the allowance: the moment it reopens."""
    for request_limit in limiter.current_limits:
        if lockout.is_failure_limit(request_limit) and lockout.locks_now(request_limit):
            return lockout.reopens_at(request_limit)
    return None


def _lock_notice(until: datetime | None) -> dict[str, str] | None:
    """The lock's end in the reader's words: time of day, time zone, and how long still."""
    if until is None:
        return None
    wait = max(until - utcnow(), timedelta(seconds=1))
    return {
        "time": format_time(until, "short"),
        "zone": str(current_app.config["BABEL_DEFAULT_TIMEZONE"]),
        "wait": format_timedelta(wait, threshold=1.0),
    }


def _login_page(form: LoginForm, locked_until: datetime | None = None, status: int = 200):
    return (
        render_template(
            "auth/login.html",
            form=form,
            lock=_lock_notice(locked_until),
            reset_by_email=mail.is_configured(),
        ),
        status,
    )


@bp.errorhandler(429)
def too_many_requests(error):
    """A lock-out on the log-in page says so, and until when; other limits the usual way."""
    until = g.get("login_locked_until")
    if request.endpoint == "auth.login" and until is not None:
        return _login_page(LoginForm(), until, 429)
    return errors.render_error(429)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_FAILURE_LIMIT"],
    key_func=_login_failure_key,
    methods=["POST"],
    deduct_when=_failed_login,
    on_breach=_locked_out,
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
        until = _lock_begins()
        notice = None
        if until is not None:
            notice = lockout.record_lock(form.email.data, until=until, address=request.remote_addr)
        db.session.commit()
        if notice is not None:
            mail.send_after_response(notice, "lock-out notice")
        if until is not None:
            return _login_page(form, until)
        flash(_("The e-mail address or password is not correct."), "error")
    return _login_page(form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["RESET_LINK_REQUEST_LIMIT"], methods=["POST"])
def forgot_password():
    """Ask for a reset link by e-mail; the answer never says whether the account exists."""
    if not mail.is_configured():
        return render_template("auth/forgot.html", form=None, sent=False)
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        message = resets.request_by_email(form.email.data)
        db.session.commit()
        if message is not None:
            mail.send_after_response(message, "password reset")
        lifetime = timedelta(seconds=float(current_app.config["RESET_LINK_SECONDS"]))
        return render_template(
            "auth/forgot.html",
            form=None,
            sent=True,
            link_lifetime=format_timedelta(lifetime, threshold=1.0),
        )
    return render_template("auth/forgot.html", form=form, sent=False)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password through a reset link; then log in with it."""
    if resets.find_usable(token) is None:
        return render_template("auth/reset.html", form=None), 410
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            resets.reset_password(token, form.new_password.data)
        except resets.ResetRefused:
            db.session.rollback()
            return render_template("auth/reset.html", form=None), 410
        db.session.commit()
        logout_user()
        flash(
            _("Your new password is saved and you are logged out everywhere. Log in with it."),
            "success",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)


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
    return render_template("auth/account.html", form=form, export_form=ConfirmForm())


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
            # Keep this session (and its remember-me cookie): they now carry the new version.
            cookie = current_app.config.get("REMEMBER_COOKIE_NAME", REMEMBER_COOKIE)
            remembered = cookie in request.cookies
            login_user(user, remember=remembered)
            flash(_("Your password is changed. Other devices have been logged out."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/password.html", form=form)
