"""People and organisations, as trainers (read) and admins (write) manage them."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from lms.auth import mail, policy, resets, services
from lms.auth.decorators import centre_admin_required, role_required
from lms.auth.forms import (
    ConfirmForm,
    OrganisationEditForm,
    OrganisationForm,
    UserEditForm,
    UserForm,
)
from lms.auth.models import Organisation, User
from lms.core.forms import attach_error
from lms.extensions import db

bp = Blueprint("people", __name__, template_folder="templates")

PAGE_SIZE = 50


def _user_or_404(public_id: str, allowed) -> User:
    """The user with ``public_id`` if ``allowed(current_user, user)``; 404 otherwise."""
    user = db.session.scalar(sa.select(User).where(User.public_id == public_id))
    if user is None or not allowed(current_user, user):
        abort(404)
    return user


def _organisation_or_404(slug: str) -> Organisation:
    org = services.find_organisation(slug)
    if org is None or not policy.can_manage_organisation(current_user, org):
        abort(404)
    return org


def _organisation_choices(form) -> None:
    orgs = db.session.scalars(policy.visible_organisations(current_user)).all()
    form.organisation.choices = [SelectChoice(org.slug, org.name) for org in orgs]


@bp.route("/people/")
@role_required("trainer", "admin")
def users():
    query = policy.visible_users(current_user)
    search = request.args.get("q", "").strip()[:120]
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(
            sa.or_(sa.func.lower(User.display_name).like(pattern), User.email.like(pattern))
        )
    role = request.args.get("role", "")
    if role in ("learner", "trainer", "admin"):
        query = query.where(User.role == role)
    page = db.paginate(query, per_page=PAGE_SIZE, error_out=False)
    return render_template("people/users.html", page=page, search=search, role=role)


@bp.route("/people/new", methods=["GET", "POST"])
@role_required("admin")
def new_user():
    form = UserForm()
    _organisation_choices(form)
    if request.method == "GET":
        form.organisation.data = current_user.organisation.slug
    if form.validate_on_submit():
        org = services.find_organisation(form.organisation.data)
        try:
            user = services.create_user(
                email=form.email.data,
                display_name=form.display_name.data,
                password=form.password.data,
                organisation=org,
                role=form.role.data,
                learner_category=form.learner_category.data or None,
                sector=form.sector.data or None,
                language=form.language.data or None,
                by=current_user,
            )
        except services.AccountError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("%(name)s can now log in.", name=user.display_name), "success")
            return redirect(url_for("people.users"))
    return render_template("people/user_form.html", form=form, user=None)


@bp.route("/people/<public_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_user(public_id: str):
    user = _user_or_404(public_id, policy.can_manage_user)
    form = UserEditForm(obj=user)
    _organisation_choices(form)
    if request.method == "GET":
        form.organisation.data = user.organisation.slug
        for field in ("learner_category", "sector", "language"):
            getattr(form, field).data = getattr(user, field) or ""
    if form.validate_on_submit():
        changes = {
            "email": form.email.data,
            "display_name": form.display_name.data.strip(),
            "role": form.role.data,
            "learner_category": form.learner_category.data or None,
            "sector": form.sector.data or None,
            "language": form.language.data or None,
            "organisation": services.find_organisation(form.organisation.data),
        }
        try:
            services.update_user(user, changes, by=current_user)
        except services.AccountError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The account of %(name)s is saved.", name=user.display_name), "success")
            return redirect(url_for("people.users"))
    return render_template(
        "people/user_form.html",
        form=form,
        user=user,
        confirm=ConfirmForm(),
        can_reset=resets.can_reset(user),
        reset_by_email=mail.is_configured(),
    )


@bp.route("/people/<public_id>/reset-link", methods=["POST"])
@role_required("admin")
def create_reset_link(public_id: str):
    """Make a one-time link for the person to choose a new password; shown once."""
    user = _user_or_404(public_id, policy.can_manage_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        link = resets.create_link(user, by=current_user)
    except services.AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("people.edit_user", public_id=public_id))
    db.session.commit()
    return render_template("people/reset_link.html", user=user, link=link)


@bp.route("/people/<public_id>/reset-email", methods=["POST"])
@role_required("admin")
def email_reset_link(public_id: str):
    """E-mail the person a one-time link to choose a new password (SMTP configured)."""
    user = _user_or_404(public_id, policy.can_manage_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        message = resets.email_link(user, by=current_user)
    except services.AccountError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        mail.send_after_response(message, "password reset")
        flash(
            _("A link to choose a new password is on its way to %(email)s.", email=user.email),
            "success",
        )
    return redirect(url_for("people.edit_user", public_id=public_id))


@bp.route("/people/<public_id>/deactivate", methods=["POST"])
@role_required("admin")
def deactivate_user(public_id: str):
    return _set_active(public_id, False)


@bp.route("/people/<public_id>/reactivate", methods=["POST"])
@role_required("admin")
def reactivate_user(public_id: str):
    return _set_active(public_id, True)


def _set_active(public_id: str, active: bool):
    user = _user_or_404(public_id, policy.can_manage_user)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        services.set_active(user, active, by=current_user)
    except services.AccountError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        if active:
            flash(_("%(name)s can log in again.", name=user.display_name), "success")
        else:
            flash(_("%(name)s can no longer log in.", name=user.display_name), "success")
    return redirect(url_for("people.edit_user", public_id=public_id))


@bp.route("/organisations/")
@role_required("admin")
def organisations():
    orgs = db.session.scalars(policy.visible_organisations(current_user)).all()
    counts = dict(
        db.session.execute(
            sa.select(User.organisation_id, sa.func.count())
            .where(User.organisation_id.in_([org.id for org in orgs]))
            .group_by(User.organisation_id)
        ).all()
    )
    return render_template("people/organisations.html", organisations=orgs, counts=counts)


@bp.route("/organisations/new", methods=["GET", "POST"])
@centre_admin_required
def new_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            org = services.create_organisation(
                name=form.name.data,
                slug=form.slug.data,
                actor_mode=form.actor_mode.data,
                self_registration=form.self_registration.data,
                by=current_user,
            )
        except services.AccountError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Organisation %(name)s created.", name=org.name), "success")
            return redirect(url_for("people.organisations"))
    return render_template("people/organisation_form.html", form=form, organisation=None)


@bp.route("/organisations/<slug>", methods=["GET", "POST"])
@role_required("admin")
def edit_organisation(slug: str):
    org = _organisation_or_404(slug)
    form = OrganisationEditForm(obj=org)
    if form.validate_on_submit():
        changes = {
            "name": form.name.data.strip(),
            "actor_mode": form.actor_mode.data,
            "self_registration": form.self_registration.data,
        }
        try:
            services.update_organisation(org, changes, by=current_user)
        except services.AccountError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Organisation %(name)s saved.", name=org.name), "success")
            return redirect(url_for("people.organisations"))
    return render_template("people/organisation_form.html", form=form, organisation=org)
