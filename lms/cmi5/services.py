"""cmi5 sessions and platforms: the rules and the writes.

Services flush; the request (or command) commits once. The network calls of a launch
(``views.launch``) happen before any write; ``start_session`` then records everything in
one transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from lms import audit
from lms.auth import services as accounts
from lms.auth.models import Organisation, User
from lms.catalog.models import Module
from lms.cmi5 import outbox, tracking
from lms.cmi5.launch import LaunchData, LaunchError, LaunchParameters, origin
from lms.cmi5.models import Cmi5Learner, Cmi5Platform, Cmi5Registration, Cmi5Session
from lms.db_types import utcnow
from lms.errors import RuleError
from lms.extensions import db

#: The mail domain of the accounts that stand for platform learners (RFC 2606: unused).
LEARNER_DOMAIN = "cmi5.invalid"


class PlatformError(RuleError):
    """A platform definition the rules refuse."""


# Platforms ---------------------------------------------------------------------------


def normalise_origins(values) -> list[str]:
    """The origins of ``values`` (URLs), checked and without duplicates."""
    found: list[str] = []
    for value in values:
        value = (value or "").strip()
        if not value.lower().startswith(("http://", "https://")):
            raise PlatformError(f"{value!r} is not an http(s) address.")
        try:
            normal = origin(value)
        except ValueError as error:
            raise PlatformError(f"{value!r} is not a valid address.") from error
        if normal not in found:
            found.append(normal)
    if not found:
        raise PlatformError("Give at least one address of the platform.")
    return found


def create_platform(
    *, name: str, organisation: Organisation, origins, by: User | None = None
) -> Cmi5Platform:
    """Allow a host LMS to launch our modules; its learners join ``organisation``."""
    name = (name or "").strip()
    if not name:
        raise PlatformError("Give the platform a name.")
    if db.session.scalar(sa.select(Cmi5Platform.id).where(Cmi5Platform.name == name)):
        raise PlatformError(f"A platform named {name!r} exists already.")
    platform = Cmi5Platform(
        name=name, organisation_id=organisation.id, origins=normalise_origins(origins)
    )
    db.session.add(platform)
    db.session.flush()
    audit.record(
        "cmi5.platform.created",
        actor=by,
        organisation_id=organisation.id,
        target_type="cmi5_platform",
        target_id=platform.id,
        details={"name": name, "origins": platform.origins},
    )
    return platform


def set_platform_enabled(platform: Cmi5Platform, enabled: bool, *, by: User | None = None):
    """Let the platform launch, or stop it (its learners' accounts stay)."""
    if platform.enabled == enabled:
        return
    platform.enabled = enabled
    db.session.flush()
    audit.record(
        "cmi5.platform.enabled" if enabled else "cmi5.platform.disabled",
        actor=by,
        organisation_id=platform.organisation_id,
        target_type="cmi5_platform",
        target_id=platform.id,
    )


def platform_for(params: LaunchParameters) -> Cmi5Platform:
    """The enabled platform both the fetch and the endpoint URLs belong to.

    Raises ``LaunchError`` (403) for any other: this service calls no other address.
    """
    wanted = {origin(params.fetch), origin(params.endpoint)}
    platforms = db.session.scalars(
        sa.select(Cmi5Platform).where(Cmi5Platform.enabled.is_(True)).order_by(Cmi5Platform.id)
    )
    for platform in platforms:
        if wanted <= set(platform.origins):
            return platform
    raise LaunchError(
        _l(
            "This module was launched by a learning platform that is not registered here. "
            "Please ask your training centre to register it."
        ),
        403,
    )


# Launch ------------------------------------------------------------------------------


def fetch_digest(fetch_url: str) -> str:
    """The fingerprint of a launch's one-time fetch URL (the URL itself is not kept)."""
    return hashlib.sha256(fetch_url.encode("utf-8")).hexdigest()


def session_of_launch(digest: str) -> Cmi5Session | None:
    """The session a launch with this fetch URL started already, if any."""
    return db.session.scalar(sa.select(Cmi5Session).where(Cmi5Session.fetch_digest == digest))


def _insert_once(row, find_existing):
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        return find_existing()
    return row


def learner_for(platform: Cmi5Platform, params: LaunchParameters, language: str | None) -> User:
    """The account standing for the launch's actor on ``platform``, created on first launch.

    A learner of the platform's organisation, with no password anyone knows: they come
    in through launches only. ``language`` (the learner's preference) becomes theirs.
    """
    home_page, name = params.account

    def existing() -> Cmi5Learner | None:
        return db.session.scalar(
            sa.select(Cmi5Learner).where(
                Cmi5Learner.platform_id == platform.id,
                Cmi5Learner.home_page == home_page,
                Cmi5Learner.name == name,
            )
        )

    learner = existing()
    if learner is None:
        learner = _provision(platform, params, existing)
    user = learner.user
    if not user.active:
        raise LaunchError(_l("Your account here is deactivated. Please ask your trainer."), 403)
    if language and user.language != language:
        user.language = language
    return user


def _provision(platform: Cmi5Platform, params: LaunchParameters, existing) -> Cmi5Learner:
    """Create the account and its link in a savepoint; a concurrent launch's wins."""
    home_page, name = params.account
    digest = hashlib.sha256(f"{platform.id}\n{home_page}\n{name}".encode()).hexdigest()
    display = params.actor.get("name")
    display = display.strip() if isinstance(display, str) and display.strip() else None
    try:
        with db.session.begin_nested():
            user = accounts.create_user(
                email=f"learner-{digest[:32]}@{LEARNER_DOMAIN}",
                display_name=(display or f"{platform.name} {name}")[:120],
                password=secrets.token_urlsafe(32),
                organisation=platform.organisation,
                role="learner",
            )
            learner = Cmi5Learner(
                platform_id=platform.id, home_page=home_page, name=name, user=user
            )
            db.session.add(learner)
    except (IntegrityError, accounts.AccountError):
        learner = existing()
        if learner is None:
            raise
    return learner


def _registration(platform, params: LaunchParameters, user: User, module: Module):
    def existing() -> Cmi5Registration | None:
        return db.session.scalar(
            sa.select(Cmi5Registration).where(
                Cmi5Registration.platform_id == platform.id,
                Cmi5Registration.registration == params.registration,
                Cmi5Registration.activity_id == params.activity_id,
            )
        )

    registration = existing() or _insert_once(
        Cmi5Registration(
            platform_id=platform.id,
            registration=params.registration,
            activity_id=params.activity_id,
            user_id=user.id,
            module_id=module.id,
        ),
        existing,
    )
    if registration.user_id != user.id or registration.module_id != module.id:
        raise LaunchError(_l("This registration belongs to another learner or module."), 403)
    return registration


def start_session(
    *,
    platform: Cmi5Platform,
    module: Module,
    params: LaunchParameters,
    data: LaunchData,
    token: str,
    digest: str,
    language: str | None = None,
    now: datetime | None = None,
) -> Cmi5Session:
    """Record the AU session of a launch and queue its ``initialized`` statement.

    Abandons the learner's older open sessions of the module (the LMS reports those).
    Raises ``LaunchError`` when the registration is another learner's or module's.
    """
    now = now or utcnow()
    user = learner_for(platform, params, language)
    registration = _registration(platform, params, user, module)
    db.session.execute(
        sa.update(Cmi5Session)
        .where(Cmi5Session.user_id == user.id, Cmi5Session.module_id == module.id)
        .where(Cmi5Session.state == "open")
        .values(state="abandoned")
    )
    session = Cmi5Session(
        registration=registration,
        user_id=user.id,
        module_id=module.id,
        session_id=data.session_id,
        fetch_digest=digest,
        actor=params.actor,
        endpoint=params.endpoint,
        auth_token=token,
        context_template=data.context_template,
        launch_mode=data.launch_mode,
        move_on=data.move_on,
        mastery_score=data.mastery_score,
        return_url=data.return_url,
        initialized_at=now,
    )
    db.session.add(session)
    db.session.flush()
    outbox.record(session, "initialized", now)
    tracking.complete_if_done(session, now)
    return session


def find_session(public_id: str, user) -> Cmi5Session | None:
    """The session with ``public_id`` if it is ``user``'s; None otherwise."""
    if not getattr(user, "is_authenticated", False) or not public_id or len(public_id) > 36:
        return None
    return db.session.scalar(
        sa.select(Cmi5Session).where(
            Cmi5Session.public_id == public_id, Cmi5Session.user_id == user.id
        )
    )


def terminate(session: Cmi5Session, now: datetime | None = None) -> bool:
    """End an open session with ``terminated``, its last statement; True if ended now.

    A second Exit (a double click, a replayed form) changes nothing.
    """
    done = db.session.execute(
        sa.update(Cmi5Session)
        .where(Cmi5Session.id == session.id, Cmi5Session.state == "open")
        .values(state="terminated")
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        db.session.refresh(session)
        return False
    now = now or utcnow()
    statement = outbox.record(
        session,
        "terminated",
        now,
        duration=max(0.0, (now - session.initialized_at).total_seconds()),
    )
    db.session.refresh(session)
    session.terminated_at = statement.occurred_at
    db.session.flush()
    return True
