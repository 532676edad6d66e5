"""Configuration: defaults here, then ``instance/config.py``, then ``LMS_*`` variables.

``load_config`` applies the layers in that order and ``validate`` refuses to start on a
configuration that would be unsafe (a production instance without a real secret key).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask

#: Values that must never serve as a production secret.
WEAK_SECRETS = frozenset({"", "dev", "changeme", "change-me", "secret", "development"})
ENVIRONMENTS = ("production", "development", "testing")


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says what to change."""


class Defaults:
    #: ``production`` (default, strict), ``development`` (``make run``) or ``testing``.
    ENV = "production"
    SECRET_KEY: str | None = None
    #: SQLAlchemy URL; empty means a SQLite file in the instance folder.
    DATABASE_URL = ""
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    #: Public base URL of this service: xAPI actor home page and activity ids live under it.
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    PLATFORM_NAME = "LMS"
    LANGUAGES = ("en", "fr")
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    #: None: secure in production, plain in development (http://127.0.0.1).
    SESSION_COOKIE_SECURE: bool | None = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE: bool | None = None
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_DURATION = 14 * 24 * 3600
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    #: Werkzeug hash method; scrypt is the slow default, tests choose a faster one.
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a method name, not a password)
    PASSWORD_MIN_LENGTH = 10
    #: Flask-Limiter storage: in memory by default; ``redis://host:6379`` across instances.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    #: Failed log-ins allowed per e-mail address and client address.
    LOGIN_FAILURE_LIMIT = "5 per minute"
    #: Log-in posts allowed from one client address (a classroom shares one address).
    LOGIN_ADDRESS_LIMIT = "60 per minute"
    #: Extra sources for the Content-Security-Policy, if a deployment needs them.
    CSP_EXTRA: dict[str, str] = {}


def load_config(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    """Fill ``app.config`` from the layers and derive the database URI."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("LMS")
    if overrides:
        app.config.update(overrides)
    env = app.config["ENV"]
    for key in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
        if app.config[key] is None:
            app.config[key] = env == "production"
    app.config["SQLALCHEMY_DATABASE_URI"] = database_uri(
        app.config["DATABASE_URL"], Path(app.instance_path)
    )
    if env == "development" and not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = development_secret(Path(app.instance_path))


def database_uri(url: str, instance_path: Path) -> str:
    """Return the SQLAlchemy URI for ``url``: PostgreSQL goes through psycopg 3."""
    if not url:
        return f"sqlite:///{instance_path / 'lms.sqlite3'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def development_secret(instance_path: Path) -> str:
    """Return the development secret kept in the instance folder, creating it once."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


def validate(config: dict[str, Any]) -> None:
    """Raise ``ConfigError`` when the configuration is unsafe or inconsistent."""
    env = config["ENV"]
    if env not in ENVIRONMENTS:
        raise ConfigError(f"LMS_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}.")
    secret = config.get("SECRET_KEY") or ""
    if env == "production":
        if secret.lower() in WEAK_SECRETS or len(secret) < 32:
            raise ConfigError(
                "Set LMS_SECRET_KEY to a random value of at least 32 characters "
                '(for example: python -c "import secrets; print(secrets.token_hex(32))"). '
                "A production instance never starts without one."
            )
    elif not secret:
        raise ConfigError("SECRET_KEY is empty.")
    base = config["PUBLIC_BASE_URL"]
    if not base.startswith(("http://", "https://")):
        raise ConfigError(f"LMS_PUBLIC_BASE_URL must be an http(s) URL, not {base!r}.")
