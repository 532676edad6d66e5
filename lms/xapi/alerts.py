"""E-mail to admins when delivery to an LRS needs attention (when SMTP is configured)."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from lms.auth.models import Organisation, User
from lms.db_types import utcnow
from lms.extensions import db
from lms.xapi import queries
from lms.xapi.models import LrsEndpoint

log = logging.getLogger(__name__)


def recipients(endpoint: LrsEndpoint) -> list[str]:
    """The active admins of the endpoint's organisation and of the centre."""
    query = (
        sa.select(User.email)
        .join(Organisation, Organisation.id == User.organisation_id)
        .where(User.role == "admin", User.active.is_(True))
        .where(
            sa.or_(Organisation.id == endpoint.organisation_id, Organisation.is_centre.is_(True))
        )
        .order_by(User.email)
    )
    return list(db.session.scalars(query))


def _take_turn(endpoint: LrsEndpoint, interval: timedelta) -> bool:
    """Mark the endpoint as alerted now, unless it was within ``interval`` (any worker)."""
    now = utcnow()
    result = db.session.execute(
        sa.update(LrsEndpoint)
        .where(LrsEndpoint.id == endpoint.id)
        .where(sa.or_(LrsEndpoint.alerted_at.is_(None), LrsEndpoint.alerted_at < now - interval))
        .values(alerted_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _message(alert: queries.Alert, to: list[str]) -> EmailMessage:
    config = current_app.config
    endpoint = alert.endpoint
    lines = [_("Statement delivery to the LRS %(name)s needs attention.", name=endpoint.name)]
    if alert.paused:
        lines.append(_("Delivery is paused: %(reason)s", reason=endpoint.paused_reason))
    if alert.parked:
        lines.append(_("Parked statements: %(count)d.", count=alert.parked))
    if alert.oldest_pending_age is not None:
        minutes = int(alert.oldest_pending_age.total_seconds() // 60)
        lines.append(
            _("The oldest pending statement has waited %(minutes)d minutes.", minutes=minutes)
        )
    lines.append(
        _(
            "Details: %(url)s",
            url=f"{config['PUBLIC_BASE_URL'].rstrip('/')}/xapi/endpoints/{endpoint.id}",
        )
    )
    message = EmailMessage()
    message["Subject"] = _(
        "[%(platform)s] xAPI delivery to %(name)s needs attention",
        platform=config["PLATFORM_NAME"],
        name=endpoint.name,
    )
    message["From"] = config["MAIL_DEFAULT_SENDER"]
    message["To"] = ", ".join(to)
    message.set_content("\n\n".join(lines))
    return message


def send(message: EmailMessage) -> None:
    """Send ``message`` through the configured SMTP server (with a time-out)."""
    config = current_app.config
    with smtplib.SMTP(config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def notify_admins() -> int:
    """E-mail the admins of every endpoint past an alert threshold; returns how many
    e-mails went out. Each endpoint is mentioned at most once per
    ``XAPI_ALERT_EMAIL_INTERVAL``, whichever worker looks first. Commits."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        return 0
    interval = timedelta(seconds=float(config["XAPI_ALERT_EMAIL_INTERVAL"]))
    endpoints = db.session.scalars(sa.select(LrsEndpoint).where(LrsEndpoint.enabled)).all()
    sent = 0
    for alert in queries.alerts(endpoints):
        to = recipients(alert.endpoint)
        if not to or not _take_turn(alert.endpoint, interval):
            continue
        with force_locale(config["BABEL_DEFAULT_LOCALE"]):
            message = _message(alert, to)
        db.session.commit()
        try:
            send(message)
        except (OSError, smtplib.SMTPException):
            log.exception("could not e-mail the xAPI alert for endpoint %s", alert.endpoint.id)
            continue
        sent += 1
    db.session.commit()
    return sent
