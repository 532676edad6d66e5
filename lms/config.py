"""Configuration: defaults here, then ``instance/config.py``, then ``LMS_*`` variables.

``load_config`` applies the layers in that order and ``validate`` refuses to start on a
configuration that would be unsafe (a production instance without a real secret key).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from flask import Flask
from limits import parse_many

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
    #: ``hide_parameters``: SQL errors and logs never show bound values (password hashes,
    #: LRS secrets, reset-link hashes).
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
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
    #: Calls allowed per API token, over every route of the JSON API (/api/v1).
    API_RATE_LIMIT = "600 per minute"
    #: Folder of module packages for ``lms modules sync``; empty: ``modules/`` of the checkout.
    MODULES_PATH = ""
    #: Folder of the Alembic migrations; empty: ``migrations/`` of the checkout.
    MIGRATIONS_DIR = ""
    #: Hours before a practical session's start when booking closes (a session may override).
    PRACTICALS_BOOKING_CLOSES_HOURS = 24
    #: Hours before a session's start from which the trainer may check learners in.
    PRACTICALS_CHECKIN_OPENS_HOURS = 2
    #: Extra sources for the Content-Security-Policy, if a deployment needs them.
    CSP_EXTRA: dict[str, str] = {}
    #: xAPI delivery: statements per POST (an endpoint may set its own).
    XAPI_BATCH_SIZE = 100
    #: Batches a worker claims at once (one database round trip), then sends one by one.
    XAPI_BATCHES_PER_CLAIM = 10
    #: Seconds to open a connection to an LRS, and to wait for its answer.
    XAPI_CONNECT_TIMEOUT = 5.0
    XAPI_READ_TIMEOUT = 30.0
    #: Seconds a failing delivery is retried before it is parked (default: 3 days).
    XAPI_MAX_RETRY_AGE = 3 * 24 * 3600
    #: First back-off delay and its ceiling, in seconds (doubled per attempt, with jitter).
    XAPI_BACKOFF_BASE = 2.0
    XAPI_BACKOFF_MAX = 15 * 60
    #: A CA bundle (PEM file) to verify LRS certificates with; empty: the system's.
    XAPI_CA_BUNDLE = ""
    #: Seconds a worker holds a claimed batch before another worker may take it over.
    XAPI_LEASE_SECONDS = 120
    #: Seconds an idle worker waits before looking for due statements again.
    XAPI_POLL_INTERVAL = 1.0
    #: Run delivery in a background thread of the web process (development only).
    XAPI_EMBEDDED_WORKER = True
    #: Admins are warned past these: parked statements, age of the oldest pending (s).
    XAPI_ALERT_PARKED = 0
    XAPI_ALERT_PENDING_AGE = 15 * 60
    #: Seconds between two alert e-mails about the same endpoint.
    XAPI_ALERT_EMAIL_INTERVAL = 24 * 3600
    #: Seconds to connect to an LTI platform (keys, tokens, grades) and to read its answer.
    LTI_HTTP_TIMEOUT = 15.0
    #: Seconds to connect to a cmi5 LMS (fetch URL, its LRS) and to read its answer.
    CMI5_CONNECT_TIMEOUT = 5.0
    CMI5_READ_TIMEOUT = 10.0
    #: Outgoing e-mail (SMTP); empty MAIL_SERVER means no e-mail is sent.
    MAIL_SERVER = ""
    MAIL_PORT = 25
    #: STARTTLS after connecting (usually port 587); MAIL_USE_SSL: TLS from the start (465).
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_DEFAULT_SENDER = "lms@localhost"
    #: Seconds to connect to the SMTP server and to wait for each of its answers.
    MAIL_TIMEOUT = 10.0
    #: Seconds an e-mailed password-reset link works; one an admin creates works longer
    #: (they hand it over themselves).
    RESET_LINK_SECONDS = 3600
    RESET_LINK_ADMIN_SECONDS = 72 * 3600
    #: "Forgot your password?" requests per client address.
    RESET_LINK_REQUEST_LIMIT = "5 per 15 minutes"
    #: Reset e-mails one account receives, however many addresses ask.
    RESET_LINK_EMAIL_LIMIT = "3 per hour"
    #: Lock-out notices one account receives by e-mail.
    LOCKOUT_NOTICE_LIMIT = "1 per hour"


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
    bundle = config.get("XAPI_CA_BUNDLE") or ""
    if bundle and not Path(bundle).is_file():
        raise ConfigError(f"LMS_XAPI_CA_BUNDLE names no file: {bundle!r}.")
    try:
        parse_many(str(config.get("API_RATE_LIMIT") or ""))
    except ValueError as error:
        raise ConfigError(
            "LMS_API_RATE_LIMIT must be a rate such as '600 per minute', "
            f"not {config.get('API_RATE_LIMIT')!r}."
        ) from error
    for key in (
        "RESET_LINK_REQUEST_LIMIT",
        "RESET_LINK_EMAIL_LIMIT",
        "LOCKOUT_NOTICE_LIMIT",
    ):
        try:
            parse_many(str(config.get(key) or ""))
        except ValueError as error:
            raise ConfigError(
                f"LMS_{key} must be a rate such as '3 per hour', not {config.get(key)!r}."
            ) from error
    if config.get("MAIL_USE_TLS") and config.get("MAIL_USE_SSL"):
        raise ConfigError(
            "Set LMS_MAIL_USE_TLS (STARTTLS) or LMS_MAIL_USE_SSL (TLS from the start), not both."
        )
    for key in (
        "XAPI_CONNECT_TIMEOUT",
        "XAPI_READ_TIMEOUT",
        "XAPI_LEASE_SECONDS",
        "LTI_HTTP_TIMEOUT",
        "CMI5_CONNECT_TIMEOUT",
        "CMI5_READ_TIMEOUT",
        "MAIL_TIMEOUT",
        "RESET_LINK_SECONDS",
        "RESET_LINK_ADMIN_SECONDS",
    ):
        try:
            seconds = float(config.get(key) or 0)
        except (TypeError, ValueError):
            seconds = 0
        if not seconds > 0:
            raise ConfigError(f"LMS_{key} must be a positive number of seconds.")
