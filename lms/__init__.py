"""The LMS service: ``create_app`` wires configuration, extensions and features."""

from __future__ import annotations

import logging
import os
import weakref
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, request, session
from flask_login import current_user

from lms.config import load_config, validate
from lms.extensions import babel, csrf, db, limiter, login_manager, migrate

log = logging.getLogger(__name__)


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the application; ``overrides`` win over every other configuration layer."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, overrides)
    validate(app.config)
    app.jinja_env.add_extension("jinja2.ext.do")
    _init_extensions(app)
    _register_features(app)
    return app


def select_locale() -> str | None:
    """The user's chosen language, else the session's, else the browser's best match."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    if session.get("language") in languages:
        return session["language"]
    return request.accept_languages.best_match(languages)


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=app.config.get("MIGRATIONS_DIR") or _migrations_path())
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _tune_sqlite(db.engine)
        _forget_pool_after_fork(db.engine)


def _forget_pool_after_fork(engine: sa.Engine) -> None:
    """A forked child (gunicorn's preloaded workers) opens its own connections.

    Connections pooled before the fork belong to the parent; the child drops its copies
    without closing them (closing would end the parent's sessions too). A weak
    reference, so the hook does not keep an engine alive that the parent let go.
    """
    reference = weakref.ref(engine)

    def after_fork() -> None:
        engine = reference()
        if engine is not None:
            engine.dispose(close=False)

    os.register_at_fork(after_in_child=after_fork)


def _migrations_path() -> str:
    """``migrations/`` beside the package (a checkout); set LMS_MIGRATIONS_DIR otherwise."""
    return str(Path(__file__).resolve().parent.parent / "migrations")


def _tune_sqlite(engine: sa.Engine) -> None:
    """Foreign keys, WAL, a busy time-out, and real transactions (SAVEPOINT included)."""

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 15000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def on_begin(connection):
        connection.exec_driver_sql("BEGIN")


def _register_features(app: Flask) -> None:
    from lms import cli
    from lms.api import admin_views as api_admin_views
    from lms.api import views as api_views
    from lms.audit.views import bp as audit_bp
    from lms.auth import labels
    from lms.auth.admin_views import bp as people_bp
    from lms.auth.loader import load_user
    from lms.auth.views import bp as auth_bp
    from lms.catalog import admin_views as catalog_admin_views
    from lms.catalog import views as catalog_views
    from lms.cmi5.views import bp as cmi5_bp
    from lms.core import errors, security
    from lms.core.views import bp as core_bp
    from lms.dashboard.views import bp as dashboard_bp
    from lms.lti import admin_views as lti_admin_views
    from lms.lti import views as lti_views
    from lms.practicals.views import bp as practicals_bp
    from lms.privacy.views import bp as privacy_bp
    from lms.progress.views import bp as progress_bp
    from lms.quiz.views import bp as quiz_bp
    from lms.xapi.cli import xapi_cli
    from lms.xapi.views import bp as xapi_bp

    login_manager.user_loader(load_user)
    blueprints = (
        core_bp,
        auth_bp,
        people_bp,
        audit_bp,
        xapi_bp,
        catalog_views.bp,
        catalog_admin_views.bp,
        quiz_bp,
        progress_bp,
        practicals_bp,
        dashboard_bp,
        privacy_bp,
        cmi5_bp,
        api_views.bp,
        api_admin_views.bp,
        lti_views.bp,
        lti_admin_views.bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    errors.register(app)
    security.register(app)
    cli.register(app)
    app.cli.add_command(xapi_cli)

    @app.context_processor
    def page_globals():
        from flask_babel import get_locale

        return {
            "labels": labels,
            "current_language": str(get_locale() or "en"),
        }
