"""Admins' pages for API tokens: list, create (the token is shown once), revoke.

An organisation's admin manages its tokens; the centre admin manages every
organisation's. The services audit each change.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from lms.api import services
from lms.api.forms import SCOPE_LABELS, ActionForm, TokenForm
from lms.api.models import ApiToken
from lms.auth import policy
from lms.auth.decorators import role_required
from lms.core.forms import attach_error
from lms.db_types import utcnow
from lms.extensions import db

bp = Blueprint("api_tokens", __name__, template_folder="templates", url_prefix="/api-tokens")

PAGE_SIZE = 50


def _token_or_404(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None or not services.can_manage_tokens(current_user, token.organisation):
        abort(404)
    return token


@bp.route("/")
@role_required("admin")
def tokens():
    page = db.paginate(services.visible_tokens(current_user), per_page=PAGE_SIZE, error_out=False)
    return render_template(
        "api/tokens.html",
        page=page,
        now=utcnow(),
        action=ActionForm(),
        scope_labels=SCOPE_LABELS,
        docs_url=url_for("api.openapi_document"),
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required("admin")
def new_token():
    form = TokenForm()
    orgs = db.session.scalars(policy.visible_organisations(current_user)).all()
    form.organisation.choices = [SelectChoice(org.slug, org.name) for org in orgs]
    if request.method == "GET":
        form.organisation.data = current_user.organisation.slug
    if form.validate_on_submit():
        org = next(org for org in orgs if org.slug == form.organisation.data)
        try:
            issued = services.create_token(
                organisation=org,
                name=form.name.data,
                scope=form.scope.data,
                expires_at=form.expires_at,
                by=current_user,
                now=utcnow(),
            )
        except services.TokenError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            return render_template(
                "api/token_created.html", issued=issued, scope_labels=SCOPE_LABELS
            )
    return render_template("api/token_form.html", form=form)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@role_required("admin")
def revoke_token(token_id: int):
    token = _token_or_404(token_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.revoke_token(token, by=current_user, now=utcnow())
    except services.TokenError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("The token %(name)s is revoked: it no longer works.", name=token.name), "success")
    return redirect(url_for("api_tokens.tokens"))
