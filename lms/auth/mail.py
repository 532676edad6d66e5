"""Outgoing e-mail through the configured SMTP server (``MAIL_*`` settings).

Messages about an account (a password-reset link, a lock-out notice) leave after the
response has gone to the browser: the page answers in the same time whether or not an
account exists (no account enumeration by timing), and only once the request's
transaction is committed. A message that cannot be sent is logged (never its content,
which may hold a reset link) and the person can ask again.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

from flask import after_this_request, current_app, has_request_context

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send; read from the configuration while it is at hand."""

    host: str
    port: int
    sender: str
    #: ``starttls``, ``ssl`` or ``plain``.
    security: str = "plain"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SmtpSettings | None:
        """The settings, or None when no SMTP server is configured."""
        if not config.get("MAIL_SERVER"):
            return None
        security = "plain"
        if config.get("MAIL_USE_SSL"):
            security = "ssl"
        elif config.get("MAIL_USE_TLS"):
            security = "starttls"
        return cls(
            host=config["MAIL_SERVER"],
            port=int(config.get("MAIL_PORT") or (465 if security == "ssl" else 25)),
            sender=config["MAIL_DEFAULT_SENDER"],
            security=security,
            username=config.get("MAIL_USERNAME") or "",
            password=config.get("MAIL_PASSWORD") or "",
            timeout=float(config.get("MAIL_TIMEOUT") or 10.0),
        )


def is_configured() -> bool:
    """Whether this instance can send e-mail."""
    return bool(current_app.config.get("MAIL_SERVER"))


def compose(to: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from the configured sender to ``to``."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = to
    message["Message-ID"] = make_msgid(domain=_sender_domain())
    message.set_content(body)
    return message


def _sender_domain() -> str | None:
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    return sender.rpartition("@")[2].strip(">") or None


def tls_context() -> ssl.SSLContext:
    """The client's TLS settings: the system's trusted CAs, host names checked."""
    return ssl.create_default_context()


def send(message: EmailMessage, settings: SmtpSettings) -> None:
    """Send ``message`` now; raises ``OSError`` or ``smtplib.SMTPException``.

    Every network step has the time-out; TLS certificates are verified.
    """
    context = tls_context()
    if settings.security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)


def _send_quietly(message: EmailMessage, settings: SmtpSettings, purpose: str) -> bool:
    """Send, logging a failure without the message's content; True when sent."""
    try:
        send(message, settings)
    except (OSError, smtplib.SMTPException) as error:
        log.warning("could not send the %s e-mail: %s", purpose, type(error).__name__)
        return False
    return True


def send_after_response(message: EmailMessage, purpose: str) -> None:
    """Send ``message`` once the current response has gone (outside a request: now).

    Call it after the transaction that the message reports on is committed. Nothing
    happens when no SMTP server is configured.
    """
    settings = SmtpSettings.from_config(current_app.config)
    if settings is None:
        return
    if not has_request_context():
        _send_quietly(message, settings, purpose)
        return

    @after_this_request
    def _when_sent(response):
        response.call_on_close(lambda: _send_quietly(message, settings, purpose))
        return response
