"""Admins' pages: platform registrations (and their scores), this tool's keys.

An organisation's admin manages its own platforms; the centre admin every
organisation's, and this tool's signing keys (shared by every registration).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms import SelectChoice

from lms.auth import policy
from lms.auth.decorators import centre_admin_required, role_required
from lms.core.forms import attach_error
from lms.db_types import utcnow
from lms.extensions import db
from lms.lti import delivery, keys, services
from lms.lti.forms import ConfirmForm, PlatformForm
from lms.lti.models import Platform
from lms.lti.tool import launch_url

bp = Blueprint("lti_admin", __name__, template_folder="templates", url_prefix="/lti")


def _platform_or_404(platform_id: int) -> Platform:
    platform = db.session.get(Platform, platform_id)
    if platform is None or not services.can_manage(current_user, platform):
        abort(404)
    return platform


def _organisations(form: PlatformForm) -> dict:
    orgs = {org.slug: org for org in db.session.scalars(policy.visible_organisations(current_user))}
    form.organisation.choices = [SelectChoice(slug, org.name) for slug, org in orgs.items()]
    return orgs


def tool_urls() -> dict[str, str]:
    """What a platform's admin enters when registering this tool."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return {
        "login": base + url_for("lti.login"),
        "launch": launch_url(),
        "jwks": base + url_for("lti.jwks"),
    }


@bp.route("/platforms/")
@role_required("admin")
def platforms():
    found = db.session.scalars(services.visible_platforms(current_user)).unique().all()
    return render_template(
        "lti/platforms.html",
        platforms=found,
        counts=services.score_counts([platform.id for platform in found]),
        urls=tool_urls(),
    )


@bp.route("/platforms/new", methods=["GET", "POST"])
@role_required("admin")
def new_platform():
    form = PlatformForm()
    orgs = _organisations(form)
    if request.method == "GET":
        form.organisation.data = current_user.organisation.slug
    if form.validate_on_submit():
        try:
            platform = services.register_platform(
                organisation=orgs[form.organisation.data],
                deployment_ids=form.deployment_list(),
                by=current_user,
                **{name: getattr(form, name).data for name in services.PLATFORM_FIELDS},
            )
        except services.PlatformError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Platform %(name)s registered.", name=platform.name), "success")
            return redirect(url_for("lti_admin.platform", platform_id=platform.id))
    return render_template("lti/platform_form.html", form=form, platform=None, urls=tool_urls())


@bp.route("/platforms/<int:platform_id>", methods=["GET", "POST"])
@role_required("admin")
def platform(platform_id: int):
    platform = _platform_or_404(platform_id)
    form = PlatformForm(obj=platform)
    del form.organisation
    if request.method == "GET":
        form.deployment_ids.data = "\n".join(platform.deployment_ids)
    if form.validate_on_submit():
        changes = {name: getattr(form, name).data for name in services.PLATFORM_FIELDS}
        try:
            services.update_platform(platform, changes, form.deployment_list(), by=current_user)
        except services.PlatformError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("Platform %(name)s saved.", name=platform.name), "success")
            return redirect(url_for("lti_admin.platform", platform_id=platform.id))
    return render_template(
        "lti/platform_form.html",
        form=form,
        platform=platform,
        urls=tool_urls(),
        confirm=ConfirmForm(),
        counts=services.score_counts([platform.id])[platform.id],
        scores=services.unsent_scores(platform),
    )


@bp.route("/platforms/<int:platform_id>/enable", methods=["POST"])
@role_required("admin")
def enable_platform(platform_id: int):
    return _set_enabled(platform_id, True)


@bp.route("/platforms/<int:platform_id>/disable", methods=["POST"])
@role_required("admin")
def disable_platform(platform_id: int):
    return _set_enabled(platform_id, False)


def _set_enabled(platform_id: int, enabled: bool):
    platform = _platform_or_404(platform_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.set_enabled(platform, enabled, by=current_user)
    db.session.commit()
    if enabled:
        flash(_("Launches from %(name)s are accepted again.", name=platform.name), "success")
    else:
        flash(_("Launches from %(name)s are now refused.", name=platform.name), "success")
    return redirect(url_for("lti_admin.platform", platform_id=platform.id))


@bp.route("/platforms/<int:platform_id>/scores/resend", methods=["POST"])
@role_required("admin")
def resend_scores(platform_id: int):
    platform = _platform_or_404(platform_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    count = delivery.resend_failed(platform, by=current_user)
    db.session.commit()
    flash(
        ngettext("%(num)d score will be sent again.", "%(num)d scores will be sent again.", count),
        "success",
    )
    return redirect(url_for("lti_admin.platform", platform_id=platform.id))


@bp.route("/keys")
@centre_admin_required
def tool_keys():
    return render_template(
        "lti/keys.html",
        keys=keys.all_keys(),
        published={key.id for key in keys.published_keys()},
        published_until=keys.published_until,
        confirm=ConfirmForm(),
        jwks_url=tool_urls()["jwks"],
        now=utcnow(),
    )


@bp.route("/keys/rotate", methods=["POST"])
@centre_admin_required
def rotate_keys():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    key = keys.rotate(by=current_user)
    db.session.commit()
    flash(_("A new key now signs; the previous one stays published for a week."), "success")
    return redirect(url_for("lti_admin.tool_keys", _anchor=key.kid))
