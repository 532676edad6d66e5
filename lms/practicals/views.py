"""Practical sessions: learners' offers and bookings, trainers' scheduling and rosters.

Handlers load, check access (``policy``), call one service and render or redirect. A
session the user may not see is a 404; an act they may not do on it is a 403.
"""

from __future__ import annotations

from datetime import UTC

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from lms.auth.decorators import role_required
from lms.auth.models import Organisation, User
from lms.core.forms import attach_error, show_refusal
from lms.db_types import utcnow
from lms.extensions import db
from lms.practicals import booking, policy, queries, records, rules, running, sessions, wording
from lms.practicals.errors import PracticalError
from lms.practicals.forms import ActionForm, SessionForm, SignOffForm, WaiverForm
from lms.practicals.labels import MEANING_LABELS, OUTCOME_LABELS, ROOM_LABELS, STATE_LABELS
from lms.practicals.models import Booking, PracticalSession, PracticalType, SignOff

bp = Blueprint(
    "practicals",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/practicals-static",
)


@bp.app_context_processor
def practical_globals():
    return {
        "practical_words": wording,
        "room_labels": ROOM_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "meaning_labels": MEANING_LABELS,
        "state_labels": STATE_LABELS,
    }


def _session_or_404(public_id: str) -> PracticalSession:
    session = db.session.scalar(
        sa.select(PracticalSession).where(PracticalSession.public_id == public_id)
    )
    if session is None or not (
        policy.can_manage(current_user, session) or policy.can_book(current_user, session)
    ):
        abort(404)
    return session


def _learner_or_404(session: PracticalSession, public_id: str) -> User:
    learner = db.session.scalar(sa.select(User).where(User.public_id == public_id))
    if learner is None or booking.live_booking(session, learner) is None:
        abort(404)
    return learner


def _refused(error: PracticalError, target: str):
    db.session.rollback()
    flash(str(error), "error")
    return redirect(target)


@bp.route("/practicals/")
@login_required
def index():
    now = utcnow()
    if current_user.role == "learner":
        return render_template(
            "practicals/learner.html",
            offers=queries.learner_offers(current_user, now),
            bookings=queries.my_bookings(current_user, now),
            names=wording.Names.load(),
            form=ActionForm(),
            now=now,
        )
    return render_template(
        "practicals/staff.html",
        upcoming=queries.staff_sessions(current_user, now),
        past=queries.staff_sessions(current_user, now, past=True),
    )


@bp.route("/practicals/types/<type_id>")
@login_required
def practical_type(type_id: str):
    practical = db.get_or_404(PracticalType, type_id)
    rule = rules.rule_from_data(practical.prerequisites)
    evaluation = None
    if current_user.role == "learner":
        learner_records = records.for_type(
            records.learner_records(current_user), current_user, practical.id
        )
        evaluation = rules.evaluate(rule, learner_records, utcnow())
    return render_template(
        "practicals/type.html",
        practical=practical,
        rule=rule,
        evaluation=evaluation,
        names=wording.Names.load(),
    )


@bp.route("/practicals/sessions/<public_id>/book", methods=["POST"])
@role_required("learner")
def book(public_id: str):
    session = _session_or_404(public_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        made = booking.book(session, current_user, utcnow())
    except PermissionError:
        abort(403)
    except PracticalError as error:
        return _refused(error, url_for(".index"))
    db.session.commit()
    if made.state == "booked":
        flash(_("Your seat is booked."), "success")
    else:
        flash(_("The session is full: you are on the waiting list."), "info")
    return redirect(url_for(".index"))


@bp.route("/practicals/bookings/<int:booking_id>/cancel", methods=["POST"])
@role_required("learner")
def cancel_booking(booking_id: int):
    held = db.session.get(Booking, booking_id)
    if held is None or held.learner_id != current_user.id:
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        booking.cancel(held, current_user, utcnow())
    except PracticalError as error:
        return _refused(error, url_for(".index"))
    db.session.commit()
    flash(_("Your booking is cancelled."), "success")
    return redirect(url_for(".index"))


def _fill_session_form(form: SessionForm, session: PracticalSession | None) -> None:
    form.practical_type.choices = [
        SelectChoice(p.id, wording.localized(p.title)) for p in sessions.practical_types()
    ]
    orgs = db.session.scalars(policy.session_organisations(current_user)).all()
    form.organisation.choices = [SelectChoice(org.id, org.name) for org in orgs]
    form.trainer.choices = [
        SelectChoice(t.id, f"{t.display_name} ({t.organisation.name})")
        for t in sessions.trainers_of(org.id for org in orgs)
    ]
    if session is not None:
        form.practical_type.render_kw = form.organisation.render_kw = {"disabled": True}
        form.practical_type.data = session.type_id
        form.organisation.data = session.organisation_id


def _start(form: SessionForm):
    timezone = get_timezone()
    naive = form.starts_at.data
    local = (
        timezone.localize(naive)
        if hasattr(timezone, "localize")
        else naive.replace(tzinfo=timezone)
    )
    return local.astimezone(UTC)


@bp.route("/practicals/sessions/new", methods=["GET", "POST"])
@role_required("trainer", "admin")
def new_session():
    form = SessionForm()
    _fill_session_form(form, None)
    if form.validate_on_submit():
        try:
            created = sessions.create_session(
                practical_type=db.get_or_404(PracticalType, form.practical_type.data),
                organisation=db.get_or_404(Organisation, form.organisation.data),
                starts_at=_start(form),
                room=form.room.data,
                trainer=db.get_or_404(User, form.trainer.data),
                capacity=form.capacity.data,
                notes=form.notes.data,
                booking_closes_hours=form.booking_closes_hours.data,
                by=current_user,
                now=utcnow(),
            )
        except PermissionError:
            abort(403)
        except PracticalError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The session is scheduled."), "success")
            return redirect(url_for(".session", public_id=created.public_id))
    return render_template("practicals/session_form.html", form=form, session=None)


@bp.route("/practicals/sessions/<public_id>/edit", methods=["GET", "POST"])
@role_required("trainer", "admin")
def edit_session(public_id: str):
    session = _session_or_404(public_id)
    if not policy.can_manage(current_user, session):
        abort(403)
    form = SessionForm(obj=None if request.method == "POST" else _form_values(session))
    _fill_session_form(form, session)
    if form.validate_on_submit():
        changes = {
            "starts_at": _start(form),
            "room": form.room.data.strip(),
            "trainer": db.get_or_404(User, form.trainer.data),
            "capacity": form.capacity.data,
            "notes": (form.notes.data or "").strip(),
            "booking_closes_hours": form.booking_closes_hours.data,
        }
        try:
            sessions.update_session(session, changes, by=current_user, now=utcnow())
        except PracticalError as error:
            attach_error(form, error)
        else:
            db.session.commit()
            flash(_("The session is updated."), "success")
            return redirect(url_for(".session", public_id=session.public_id))
    return render_template("practicals/session_form.html", form=form, session=session)


def _form_values(session: PracticalSession):
    from types import SimpleNamespace

    local = session.starts_at.astimezone(get_timezone()).replace(tzinfo=None)
    return SimpleNamespace(
        starts_at=local,
        room=session.room,
        trainer=session.trainer_id,
        capacity=session.capacity,
        notes=session.notes,
        booking_closes_hours=session.booking_closes_hours,
    )


@bp.route("/practicals/sessions/<public_id>/cancel", methods=["POST"])
@role_required("trainer", "admin")
def cancel_session(public_id: str):
    session = _session_or_404(public_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        sessions.cancel_session(session, by=current_user, now=utcnow())
    except PermissionError:
        abort(403)
    except PracticalError as error:
        return _refused(error, url_for(".session", public_id=public_id))
    db.session.commit()
    flash(_("The session is cancelled; its learners' bookings too."), "success")
    return redirect(url_for(".index"))


@bp.route("/practicals/sessions/<public_id>")
@role_required("trainer", "admin")
def session(public_id: str):
    session = _session_or_404(public_id)
    if not policy.can_manage(current_user, session):
        abort(403)
    lines, waiting = queries.roster(session)
    return render_template(
        "practicals/roster.html",
        session=session,
        lines=lines,
        waiting=waiting,
        names=wording.Names.load(),
        can_run=policy.can_run(current_user, session),
        checkin_open=utcnow() >= running.checkin_opens_at(session),
        closes_at=booking.booking_closes_at(session),
        form=ActionForm(),
        requirements=_requirements(session),
    )


def _requirements(session: PracticalSession) -> dict[str, str]:
    """Condition key -> what it asks, in words (to show what a waiver waived)."""
    names = wording.Names.load()
    rule = rules.rule_from_data(session.practical_type.prerequisites)
    return {c.key: wording.requirement(c, names) for c in rules.conditions(rule)}


@bp.route("/practicals/sessions/<public_id>/learners/<learner_id>/check-in", methods=["POST"])
@role_required("trainer")
def check_in(public_id: str, learner_id: str):
    session = _session_or_404(public_id)
    learner = _learner_or_404(session, learner_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        running.check_in(session, learner, by=current_user, now=utcnow())
    except PermissionError:
        abort(403)
    except PracticalError as error:
        return _refused(error, url_for(".session", public_id=public_id))
    db.session.commit()
    flash(_("%(name)s is checked in.", name=learner.display_name), "success")
    return redirect(url_for(".session", public_id=public_id))


@bp.route(
    "/practicals/sessions/<public_id>/learners/<learner_id>/sign-off", methods=["GET", "POST"]
)
@role_required("trainer")
def sign_off(public_id: str, learner_id: str):
    session = _session_or_404(public_id)
    learner = _learner_or_404(session, learner_id)
    if not policy.can_run(current_user, session):
        abort(403)
    current = running.effective_sign_off(session, learner)
    form = SignOffForm()
    if form.validate_on_submit():
        corrects = None
        if (form.corrects.data or "").isdigit():
            corrects = db.session.get(SignOff, int(form.corrects.data))
        try:
            running.sign_off(
                session,
                learner,
                by=current_user,
                password=form.password.data,
                outcome=form.outcome.data,
                comments=form.comments.data,
                corrects=corrects,
                now=utcnow(),
            )
        except PracticalError as error:
            show_refusal(form, error)
        else:
            db.session.commit()
            flash(_("Signed off."), "success")
            return redirect(url_for(".session", public_id=public_id))
    form.corrects.data = str(current.id) if current else ""
    return render_template(
        "practicals/sign_off.html", session=session, learner=learner, current=current, form=form
    )


@bp.route("/practicals/sessions/<public_id>/learners/<learner_id>/waiver", methods=["GET", "POST"])
@role_required("trainer")
def waiver(public_id: str, learner_id: str):
    session = _session_or_404(public_id)
    learner = _learner_or_404(session, learner_id)
    if not policy.can_run(current_user, session):
        abort(403)
    names = wording.Names.load()
    evaluation = booking.evaluation_for(session, learner)
    form = WaiverForm()
    form.condition.choices = [
        SelectChoice(leaf.key, wording.missing(leaf, names))
        for item in evaluation.missing
        for leaf in item.leaves()
    ]
    if form.validate_on_submit():
        try:
            running.grant_waiver(
                session,
                learner,
                form.condition.data,
                by=current_user,
                password=form.password.data,
                reason=form.reason.data,
                now=utcnow(),
            )
        except PracticalError as error:
            show_refusal(form, error)
        else:
            db.session.commit()
            flash(_("The waiver is signed."), "success")
            return redirect(url_for(".session", public_id=public_id))
    return render_template(
        "practicals/waiver.html",
        session=session,
        learner=learner,
        evaluation=evaluation,
        names=names,
        form=form,
    )
