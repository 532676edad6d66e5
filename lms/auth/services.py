"""Accounts and organisations: the rules and the writes.

Services flush; the request (or CLI command) commits once. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from werkzeug.security import check_password_hash, generate_password_hash

from lms import audit
from lms.auth.models import (
    ACTOR_MODES,
    LEARNER_CATEGORIES,
    ROLES,
    SECTORS,
    Organisation,
    PasswordResetLink,
    User,
)
from lms.db_types import utcnow
from lms.errors import RuleError
from lms.extensions import db


class AccountError(RuleError):
    """A change to an account or organisation that the rules refuse."""


def normalise_email(email: str) -> str:
    """The stored form of an e-mail address: trimmed and lower case."""
    return email.strip().lower()


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


#: A hash compared against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    method = current_app.config["PASSWORD_HASH_METHOD"]
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not a password", method=method)
    return _DUMMY_HASHES[method]


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == normalise_email(email)))


def email_taken(email: str, *, except_user: User | None = None) -> bool:
    """True when another account already uses ``email`` (in any letter case)."""
    user = find_user_by_email(email)
    return user is not None and user is not except_user


def authenticate(email: str, password: str) -> User | None:
    """Return the active user with these credentials, or None; audit either outcome."""
    user = find_user_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
    elif check_password_hash(user.password_hash, password) and user.active:
        user.last_login_at = utcnow()
        audit.record(
            "auth.login.succeeded", actor=user, target_type="user", target_id=user.public_id
        )
        return user
    audit.record(
        "auth.login.failed",
        actor=user,
        actor_label=None if user else normalise_email(email)[:254],
        organisation_id=user.organisation_id if user else None,
        details={"reason": "inactive" if user and user.active is False else "credentials"},
    )
    return None


def record_logout(user: User) -> None:
    audit.record("auth.logout", actor=user, target_type="user", target_id=user.public_id)


def _check_choice(value: str | None, allowed: tuple[str, ...], field: str) -> None:
    if value is not None and value not in allowed:
        raise AccountError(f"{value!r} is not one of {', '.join(allowed)}.", field)


def create_user(
    *,
    email: str,
    display_name: str,
    password: str,
    organisation: Organisation,
    role: str = "learner",
    learner_category: str | None = None,
    sector: str | None = None,
    language: str | None = None,
    by: User | None = None,
) -> User:
    """Create an account and audit it; raise ``AccountError`` if the e-mail is taken."""
    _check_choice(role, ROLES, "role")
    _check_choice(learner_category, LEARNER_CATEGORIES, "learner_category")
    _check_choice(sector, SECTORS, "sector")
    if email_taken(email):
        raise AccountError(_l("An account with this e-mail address already exists."), "email")
    user = User(
        email=normalise_email(email),
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        organisation=organisation,
        role=role,
        learner_category=learner_category,
        sector=sector,
        language=language,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.created" if by else "user.registered",
        actor=by or user,
        organisation_id=organisation.id,
        target_type="user",
        target_id=user.public_id,
        details={"role": role, "organisation": organisation.slug},
    )
    return user


#: Fields an admin may change on an account through ``update_user``.
USER_FIELDS = ("email", "display_name", "role", "learner_category", "sector", "language")


def update_user(user: User, changes: Mapping[str, Any], *, by: User) -> dict[str, Any]:
    """Apply ``changes`` to ``user``; audit and return what really changed (old, new)."""
    unknown = set(changes) - set(USER_FIELDS) - {"organisation"}
    if unknown:
        raise AccountError(f"Cannot change {', '.join(sorted(unknown))}.")
    _check_not_pseudonymised(user)
    if "email" in changes and email_taken(changes["email"], except_user=user):
        raise AccountError(_l("An account with this e-mail address already exists."), "email")
    _check_choice(changes.get("role"), ROLES, "role")
    _check_choice(changes.get("learner_category"), LEARNER_CATEGORIES, "learner_category")
    _check_choice(changes.get("sector"), SECTORS, "sector")
    if user.id == by.id and changes.get("role", user.role) != user.role:
        raise AccountError(_l("You cannot change your own role."), "role")
    diff: dict[str, Any] = {}
    for field, value in changes.items():
        if field == "email":
            value = normalise_email(value)
        if field == "organisation":
            if value.id != user.organisation_id:
                diff[field] = [user.organisation.slug, value.slug]
                user.organisation = value
            continue
        if getattr(user, field) != value:
            diff[field] = [getattr(user, field), value]
            setattr(user, field, value)
    if diff:
        db.session.flush()
        audit.record(
            "user.updated",
            actor=by,
            organisation_id=user.organisation_id,
            target_type="user",
            target_id=user.public_id,
            details=without_personal_data(diff),
        )
    return diff


#: Fields whose values the audit trail does not keep (it says only that they changed):
#: a record cannot be rewritten when a learner is pseudonymised.
PERSONAL_FIELDS = ("email", "display_name")


def without_personal_data(diff: Mapping[str, Any]) -> dict[str, Any]:
    """``diff`` with the old and new values of personal fields replaced by "changed"."""
    return {
        field: "changed" if field in PERSONAL_FIELDS else change for field, change in diff.items()
    }


def set_active(user: User, active: bool, *, by: User) -> None:
    """Deactivate or reactivate an account; an admin cannot deactivate themself."""
    if user.id == by.id and not active:
        raise AccountError(_l("You cannot deactivate your own account."))
    if active:
        _check_not_pseudonymised(user)
    if user.active == active:
        return
    user.active = active
    if not active:
        end_sessions(user)
    db.session.flush()
    audit.record(
        "user.reactivated" if active else "user.deactivated",
        actor=by,
        organisation_id=user.organisation_id,
        target_type="user",
        target_id=user.public_id,
    )


def _check_not_pseudonymised(user: User) -> None:
    if user.is_pseudonymised:
        raise AccountError(_l("This former learner's account is pseudonymised: it stays closed."))


def end_sessions(user: User) -> None:
    """End every log-in session of ``user`` (they carry the session version) and every
    password-reset link still open."""
    user.session_version += 1
    db.session.flush()
    db.session.execute(
        sa.update(PasswordResetLink)
        .where(
            PasswordResetLink.user_id == user.id,
            PasswordResetLink.used_at.is_(None),
            PasswordResetLink.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def set_password(user: User, new: str) -> None:
    """Store a new password; every session and open reset link of ``user`` ends."""
    user.password_hash = hash_password(new)
    end_sessions(user)


def change_password(user: User, current: str, new: str) -> None:
    """Replace the password after checking the current one; ends other log-in sessions."""
    if not check_password_hash(user.password_hash, current):
        raise AccountError(_l("The current password is not correct."), "current_password")
    set_password(user, new)
    audit.record("user.password_changed", actor=user, target_type="user", target_id=user.public_id)


def set_language(user: User, language: str | None) -> None:
    """Remember the interface language a user chose (None: follow the browser)."""
    if language is not None and language not in current_app.config["LANGUAGES"]:
        raise AccountError(f"Unsupported language {language!r}.", "language")
    user.language = language
    db.session.flush()


def update_profile(user: User, *, display_name: str, language: str | None) -> None:
    """Let a user change their own display name and language."""
    if display_name.strip() != user.display_name:
        audit.record(
            "user.profile_updated",
            actor=user,
            target_type="user",
            target_id=user.public_id,
            details=without_personal_data({"display_name": True}),
        )
        user.display_name = display_name.strip()
    set_language(user, language)


def register(
    *,
    organisation: Organisation,
    email: str,
    display_name: str,
    password: str,
    learner_category: str,
    sector: str | None,
    language: str | None,
) -> User:
    """Self-registration of a learner into an organisation that allows it."""
    if not organisation.self_registration:
        raise AccountError(
            _l("This organisation does not accept self-registration."), "organisation"
        )
    return create_user(
        email=email,
        display_name=display_name,
        password=password,
        organisation=organisation,
        role="learner",
        learner_category=learner_category,
        sector=sector,
        language=language,
    )


def find_organisation(slug: str) -> Organisation | None:
    return db.session.scalar(sa.select(Organisation).where(Organisation.slug == slug))


def centre() -> Organisation | None:
    """The centre organisation, if one is set up."""
    return db.session.scalar(sa.select(Organisation).where(Organisation.is_centre.is_(True)))


def create_organisation(
    *,
    name: str,
    slug: str,
    actor_mode: str = "account",
    self_registration: bool = False,
    is_centre: bool = False,
    by: User | None = None,
) -> Organisation:
    """Create an organisation; raise ``AccountError`` on a duplicate name or slug."""
    _check_choice(actor_mode, ACTOR_MODES, "actor_mode")
    _check_unique_organisation(name, slug)
    if is_centre and centre() is not None:
        raise AccountError(_l("There is already a centre organisation."), "is_centre")
    org = Organisation(
        name=name.strip(),
        slug=slug,
        actor_mode=actor_mode,
        self_registration=self_registration,
        is_centre=is_centre,
    )
    db.session.add(org)
    db.session.flush()
    audit.record(
        "organisation.created",
        actor=by,
        organisation_id=org.id,
        target_type="organisation",
        target_id=org.slug,
        details={
            "name": org.name,
            "actor_mode": actor_mode,
            "self_registration": self_registration,
        },
    )
    return org


def _check_unique_organisation(name: str, slug: str, *, except_org: Organisation | None = None):
    labels = {"name": _l("name"), "slug": _l("short name")}
    pairs = ((Organisation.name, name.strip(), "name"), (Organisation.slug, slug, "slug"))
    for column, value, field in pairs:
        other = db.session.scalar(
            sa.select(Organisation).where(sa.func.lower(column) == value.lower())
        )
        if other is not None and other is not except_org:
            raise AccountError(
                _l("An organisation with this %(field)s already exists.", field=labels[field]),
                field,
            )


#: Fields an admin may change on an organisation.
ORGANISATION_FIELDS = ("name", "actor_mode", "self_registration")


def update_organisation(
    org: Organisation, changes: Mapping[str, Any], *, by: User
) -> dict[str, Any]:
    """Apply ``changes`` to ``org``; audit and return what really changed."""
    unknown = set(changes) - set(ORGANISATION_FIELDS)
    if unknown:
        raise AccountError(f"Cannot change {', '.join(sorted(unknown))}.")
    _check_choice(changes.get("actor_mode"), ACTOR_MODES, "actor_mode")
    if "name" in changes:
        _check_unique_organisation(changes["name"], org.slug, except_org=org)
    diff = {}
    for field, value in changes.items():
        if getattr(org, field) != value:
            diff[field] = [getattr(org, field), value]
            setattr(org, field, value)
    if diff:
        db.session.flush()
        audit.record(
            "organisation.updated",
            actor=by,
            organisation_id=org.id,
            target_type="organisation",
            target_id=org.slug,
            details=diff,
        )
    return diff
