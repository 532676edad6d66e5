"""The audit trail, read by admins: centre admins see all, others their organisation."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy.orm import selectinload

from lms.audit.models import AuditRecord
from lms.auth.decorators import role_required
from lms.extensions import db

bp = Blueprint("audit", __name__, template_folder="templates")


@bp.route("/audit/")
@role_required("admin")
def trail():
    query = (
        sa.select(AuditRecord)
        .options(selectinload(AuditRecord.actor))
        .order_by(AuditRecord.id.desc())
    )
    if not current_user.is_centre_admin:
        query = query.where(AuditRecord.organisation_id == current_user.organisation_id)
    action = request.args.get("action", "").strip()[:64]
    if action:
        query = query.where(AuditRecord.action.startswith(action, autoescape=True))
    page = db.paginate(query, per_page=50, error_out=False)
    return render_template("audit/trail.html", page=page, action=action)
