"""Module administration: loaded modules and versions, the last sync, enable or retire.

Every admin may look; only centre admins change a module, since modules serve every
organisation.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from lms.auth.decorators import centre_admin_required, role_required
from lms.catalog import queries, services, sync
from lms.catalog.forms import ConfirmForm
from lms.catalog.models import Module
from lms.extensions import db

bp = Blueprint("catalog_admin", __name__, template_folder="templates")


def _module_or_404(module_id: str) -> Module:
    module = db.session.get(Module, module_id)
    if module is None:
        abort(404)
    return module


@bp.route("/admin/modules/")
@role_required("admin")
def modules():
    return render_template(
        "catalog/admin_modules.html",
        modules=queries.all_modules(),
        counts=queries.version_counts(),
        report=sync.last_report(),
        form=ConfirmForm(),
    )


@bp.route("/admin/modules/<module_id>")
@role_required("admin")
def module(module_id: str):
    module = _module_or_404(module_id)
    return render_template(
        "catalog/admin_module.html",
        module=module,
        versions=queries.versions_of(module.id),
        form=ConfirmForm(),
    )


@bp.route("/admin/modules/<module_id>/retire", methods=["POST"])
@centre_admin_required
def retire(module_id: str):
    return _set_status(module_id, "retired")


@bp.route("/admin/modules/<module_id>/enable", methods=["POST"])
@centre_admin_required
def enable(module_id: str):
    return _set_status(module_id, "enabled")


def _set_status(module_id: str, status: str):
    module = _module_or_404(module_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.set_status(module, status, by=current_user)
    db.session.commit()
    if status == "retired":
        flash(_("The module %(id)s is retired: it takes no new learners.", id=module.id), "success")
    else:
        flash(_("The module %(id)s is open to learners.", id=module.id), "success")
    return redirect(url_for("catalog_admin.module", module_id=module.id))
