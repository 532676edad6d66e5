"""Catalog pages for every logged-in person: module list, module page, lessons, images."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from lms.catalog import queries, services
from lms.catalog.forms import ConfirmForm
from lms.catalog.models import Module
from lms.catalog.schema import SECTORS
from lms.extensions import db

bp = Blueprint(
    "catalog",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/catalog-static",
)

#: Images are served as images only: an SVG opened directly can run nothing.
IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def localized(value: dict[str, str] | None, language: str | None = None) -> str:
    """The text of a language map in ``language`` (default: the page's), else English."""
    if not value:
        return ""
    language = language or str(get_locale() or "en")
    return value.get(language) or value.get("en") or next(iter(value.values()), "")


@bp.app_context_processor
def catalog_globals():
    return {"tr": localized}


def _module_or_404(module_id: str) -> Module:
    module = services.find_module(module_id)
    if module is None:
        abort(404)
    return module


@bp.route("/modules/")
@login_required
def index():
    sector = request.args.get("sector", "")
    sector = sector if sector in SECTORS[:2] else ""
    search = request.args.get("q", "").strip()[:120]
    modules = queries.catalog_modules(current_user, sector=sector, search=search)
    return render_template("catalog/index.html", modules=modules, sector=sector, search=search)


@bp.route("/modules/<module_id>")
@login_required
def module(module_id: str):
    module = _module_or_404(module_id)
    enrolment = services.enrolment_for(current_user, module.id)
    passed = services.passed_module_ids(current_user)
    prerequisites = services.prerequisites_of(current_user, module, passed)
    blocked = services.gate(current_user, module, enrolment, prerequisites)
    if (
        blocked is None
        and services.records_learning(current_user)
        and services.is_launch_due(enrolment)
    ):
        # A reload writes nothing: no commit, which would expire what the page shows.
        enrolment = services.open_module(current_user, module, enrolment)
        db.session.commit()
    return render_template(
        "catalog/module.html",
        module=module,
        version=module.current_version,
        lessons=queries.lesson_outline(module.current_version_id),
        read=services.read_slugs(current_user, module.id),
        prerequisites=prerequisites,
        blocked=blocked,
        enrolment=enrolment,
        passed=module.id in passed,
        preview=not services.records_learning(current_user),
    )


def _lesson_context(module_id: str, slug: str):
    """Load a lesson of the current version and check the learner may read it."""
    module = _module_or_404(module_id)
    lesson = queries.find_lesson(module.current_version_id, slug)
    if lesson is None:
        abort(404)
    enrolment = services.enrolment_for(current_user, module.id)
    prerequisites = services.prerequisites_of(current_user, module)
    blocked = services.gate(current_user, module, enrolment, prerequisites)
    return module, lesson, enrolment, blocked


@bp.route("/modules/<module_id>/lessons/<slug>")
@login_required
def lesson(module_id: str, slug: str):
    module, lesson, enrolment, blocked = _lesson_context(module_id, slug)
    if blocked:
        return redirect(url_for("catalog.module", module_id=module.id))
    if services.records_learning(current_user) and services.is_launch_due(enrolment):
        # A reload writes nothing: no commit, which would expire what the page shows.
        services.open_module(current_user, module, enrolment)
        db.session.commit()
    outline = queries.lesson_outline(module.current_version_id)
    index = next(i for i, entry in enumerate(outline) if entry.slug == lesson.slug)
    return render_template(
        "catalog/lesson.html",
        module=module,
        version=module.current_version,
        lesson=lesson,
        outline=outline,
        previous=outline[index - 1] if index > 0 else None,
        following=outline[index + 1] if index + 1 < len(outline) else None,
        read=services.read_slugs(current_user, module.id),
        form=ConfirmForm(),
        preview=not services.records_learning(current_user),
    )


@bp.route("/modules/<module_id>/lessons/<slug>/read", methods=["POST"])
@login_required
def mark_read(module_id: str, slug: str):
    module, lesson, enrolment, blocked = _lesson_context(module_id, slug)
    if blocked or not services.records_learning(current_user):
        abort(403)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.mark_read(current_user, module, lesson, enrolment)
    # Read before the commit expires them (reading after would reload each row).
    module_id, version_id, slug = module.id, module.current_version_id, lesson.slug
    db.session.commit()
    flash(_("Lesson marked as read."), "success")
    following = request.form.get("next_lesson", "")
    if following and queries.find_lesson(version_id, following):
        return redirect(url_for("catalog.lesson", module_id=module_id, slug=following))
    return redirect(url_for("catalog.lesson", module_id=module_id, slug=slug))


@bp.route("/modules/<module_id>/files/<content_hash>/<name>")
@login_required
def image(module_id: str, content_hash: str, name: str):
    found = queries.find_image(module_id, content_hash, name)
    if found is None:
        abort(404)
    response = Response(found.data, mimetype=found.media_type)
    response.headers["Content-Security-Policy"] = IMAGE_CSP
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["Content-Disposition"] = "inline"
    return response
