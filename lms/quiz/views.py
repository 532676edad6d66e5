"""Quiz pages: the quiz of a module, an attempt's pages, the review after submitting.

Plain forms that work without JavaScript. Attempts are found by their opaque id and
only for their owner: anyone else gets 404.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy.exc import OperationalError

from lms.catalog import services as catalog
from lms.extensions import db
from lms.progress.services import learning_records, module_progress
from lms.quiz import clock, review, services
from lms.quiz.draw import shown_question
from lms.quiz.services import QuizError

bp = Blueprint(
    "quiz",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/quiz-static",
)

#: Retries of a write that SQLite refused because another request wrote first.
SQLITE_RETRIES = 5


class AttemptForm(FlaskForm):
    """The CSRF token; the answer fields are read by ``responses.parse``."""


def _module_or_404(module_id: str):
    module = catalog.find_module(module_id)
    if module is None:
        abort(404)
    return module


def _attempt_or_404(public_id: str):
    attempt = services.find_attempt(public_id, current_user)
    if attempt is None:
        abort(404)
    return attempt


def committed(work):
    """Run ``work()`` in a fresh write transaction and commit it.

    On SQLite the transaction takes the write lock first (waiting its turn behind
    other writers) instead of failing on "database is locked" when another request
    wrote after this one had read; a refusal that happens anyway is retried.
    """
    for remaining in range(SQLITE_RETRIES, -1, -1):
        try:
            _take_sqlite_write_lock()
            result = work()
            db.session.commit()
            return result
        except OperationalError as error:
            db.session.rollback()
            if remaining == 0 or "locked" not in str(error):
                raise
    raise AssertionError("unreachable")


def _take_sqlite_write_lock() -> None:
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.rollback()
        db.session.execute(sa.text("UPDATE quiz_attempt SET id = id WHERE 0 = 1"))


def refusal_message(error: QuizError) -> str:
    if error.reason == "cooldown":
        return _(
            "You may try again from %(time)s.",
            time=format_datetime(error.until, "medium"),
        )
    if error.reason == "no_attempts_left":
        return _("You have used every attempt at this quiz. Please ask your trainer.")
    if error.reason == "gated":
        return _("This quiz opens once you have passed the modules this module requires.")
    return _("This module has no quiz.")


@bp.route("/modules/<module_id>/quiz")
@login_required
def overview(module_id: str):
    module = _module_or_404(module_id)
    if catalog.records_learning(current_user):
        records = learning_records(current_user.id, [module.id])
        if records.has_overdue(clock.now()):
            committed(lambda: services.finalise_overdue(current_user, module_id=module.id))
            records = None
        progress = module_progress(current_user, module, records=records)
    else:
        progress = None
    return render_template(
        "quiz/overview.html",
        module=module,
        version=module.current_version,
        settings=module.current_version.quiz_settings,
        progress=progress,
        attempts=services.submitted_attempts(current_user.id, module.id),
        form=AttemptForm(),
    )


@bp.route("/modules/<module_id>/quiz/start", methods=["POST"])
@login_required
def start(module_id: str):
    module = _module_or_404(module_id)
    if not catalog.records_learning(current_user):
        abort(403)
    if not AttemptForm().validate_on_submit():
        abort(400)
    try:
        attempt = committed(lambda: services.start_attempt(current_user, module))
    except QuizError as error:
        db.session.rollback()
        flash(refusal_message(error), "warning")
        return redirect(url_for("quiz.overview", module_id=module.id))
    return redirect(url_for("quiz.attempt", public_id=attempt.public_id))


def _pages(attempt, layout: str) -> list[list[dict]]:
    entries = attempt.draw
    return [entries] if layout != "paged" else [[entry] for entry in entries]


@bp.route("/attempts/<public_id>")
@login_required
def attempt(public_id: str):
    attempt = _attempt_or_404(public_id)
    if attempt.is_open and attempt.deadline and clock.now() > attempt.deadline:
        committed(lambda: services.submit_attempt(attempt))
        flash(_("The time was up: your answers saved in time were marked."), "warning")
    if not attempt.is_open:
        return redirect(url_for("quiz.result", public_id=attempt.public_id))
    layout = "paged" if request.args.get("layout") == "paged" else "all"
    pages = _pages(attempt, layout)
    page = min(max(request.args.get("page", 0, type=int), 0), len(pages) - 1)
    bank = {question["id"]: question for question in services.questions_of(attempt)}
    shown = [
        shown_question(bank[entry["id"]], entry) for entry in pages[page] if entry["id"] in bank
    ]
    numbers = {entry["id"]: n for n, entry in enumerate(attempt.draw, start=1)}
    return render_template(
        "quiz/attempt.html",
        attempt=attempt,
        module=attempt.module,
        version=attempt.version,
        questions=shown,
        numbers=numbers,
        saved=services.saved_responses(attempt),
        layout=layout,
        page=page,
        page_count=len(pages),
        answered=len(services.saved_responses(attempt)),
        form=AttemptForm(),
    )


@bp.route("/attempts/<public_id>", methods=["POST"])
@login_required
def save(public_id: str):
    attempt = _attempt_or_404(public_id)
    if not AttemptForm().validate_on_submit():
        abort(400)
    action = request.form.get("action", "save")
    layout = "paged" if request.form.get("layout") == "paged" else "all"
    page = request.form.get("page", 0, type=int)
    drawn = {entry["id"] for entry in attempt.draw}
    shown = [qid for qid in request.form.getlist("shown") if qid in drawn]

    def work():
        saved = services.save_answers(attempt, request.form, shown)
        if action == "submit" or (not saved and attempt.is_open):
            return saved, services.submit_attempt(attempt)
        return saved, None

    saved, outcome = committed(work)
    if request.accept_mimetypes.best == "application/json":
        return ({"saved": saved}, 200 if saved else 409)
    if outcome is not None:
        if not saved and action != "submit":
            flash(_("The time was up: your answers saved in time were marked."), "warning")
        return redirect(url_for("quiz.result", public_id=attempt.public_id))
    if not saved:
        return redirect(url_for("quiz.result", public_id=attempt.public_id))
    flash(_("Your answers are saved."), "success")
    page += {"next": 1, "previous": -1}.get(action, 0)
    args = {"layout": layout, "page": max(page, 0)} if layout == "paged" else {}
    return redirect(url_for("quiz.attempt", public_id=attempt.public_id, **args))


@bp.route("/attempts/<public_id>/result")
@login_required
def result(public_id: str):
    attempt = _attempt_or_404(public_id)
    if attempt.is_open:
        return redirect(url_for("quiz.attempt", public_id=attempt.public_id))
    settings = attempt.version.quiz_settings
    mode = settings.get("review", "full")
    items = review.review_items(
        mode, services.questions_of(attempt), attempt.draw, services.saved_responses(attempt)
    )
    module = catalog.find_module(attempt.module_id)
    progress = module_progress(current_user, module) if module else None
    return render_template(
        "quiz/result.html",
        attempt=attempt,
        module=attempt.module,
        version=attempt.version,
        mode=mode,
        items=items,
        describe=review.describe,
        progress=progress,
        pass_mark=settings["pass_mark"],
    )
