"""``flask --app wsgi xapi ...``: endpoints, the delivery worker, backfill and resend.

Secrets are read from ``LMS_XAPI_ENDPOINT_SECRET`` or a hidden prompt, never from the
command line (which other users of the machine can read).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from datetime import UTC, datetime

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from lms.auth import services as accounts
from lms.extensions import db
from lms.xapi import queries, services, worker
from lms.xapi.models import XAPI_VERSIONS, LrsEndpoint

#: The environment variable the secret is read from (a name, not a secret).
SECRET_VARIABLE = "LMS_XAPI_ENDPOINT_SECRET"  # noqa: S105

xapi_cli = AppGroup("xapi", help="xAPI statements, LRS endpoints and their delivery.")
endpoint_cli = AppGroup("endpoint", help="The LRS endpoints statements are delivered to.")
xapi_cli.add_command(endpoint_cli)


def _endpoint(endpoint_id: int) -> LrsEndpoint:
    endpoint = db.session.get(LrsEndpoint, endpoint_id)
    if endpoint is None:
        raise click.ClickException(f"No endpoint with id {endpoint_id}.")
    return endpoint


def _default_locale():
    """Messages of the services in the default language (there is no request here)."""
    return force_locale(current_app.config["BABEL_DEFAULT_LOCALE"])


def _secret() -> str:
    secret = os.environ.get(SECRET_VARIABLE)
    if secret:
        return secret
    return click.prompt("Secret (input hidden)", hide_input=True)


@endpoint_cli.command("add")
@click.option("--organisation", "org_slug", required=True, help="Organisation short name.")
@click.option("--name", required=True, help="A name for this LRS.")
@click.option("--url", required=True, help="The LRS's xAPI base URL (…/statements is added).")
@click.option("--key", required=True, help="Basic-auth key (user name).")
@click.option("--xapi-version", type=click.Choice(XAPI_VERSIONS), default="1.0.3")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=None)
@click.option("--disabled", is_flag=True, help="Register it without delivering yet.")
@click.option("--backfill", is_flag=True, help="Also queue the statements recorded before.")
def add_command(org_slug, name, url, key, xapi_version, batch_size, disabled, backfill):
    """Register an LRS endpoint; the secret comes from LMS_XAPI_ENDPOINT_SECRET or a prompt."""
    org = accounts.find_organisation(org_slug)
    if org is None:
        raise click.ClickException(f"No organisation with the short name {org_slug!r}.")
    try:
        endpoint = services.create_endpoint(
            organisation=org,
            name=name,
            url=url,
            key=key,
            secret=_secret(),
            xapi_version=xapi_version,
            batch_size=batch_size,
            enabled=not disabled,
        )
    except services.EndpointError as error:
        with _default_locale():
            raise click.ClickException(str(error)) from error
    queued = services.backfill(endpoint) if backfill else 0
    db.session.commit()
    click.echo(f"Endpoint {endpoint.id} ({endpoint.name}) added for {org.slug}.")
    if backfill:
        click.echo(f"{queued} earlier statements queued.")


@endpoint_cli.command("list")
def list_command():
    """The endpoints, their state and their delivery counts."""
    endpoints = db.session.scalars(sa.select(LrsEndpoint).order_by(LrsEndpoint.id)).all()
    health = queries.health([e.id for e in endpoints])
    for endpoint in endpoints:
        h = health[endpoint.id]
        state = "paused" if endpoint.paused_reason else "enabled" if endpoint.enabled else "off"
        click.echo(
            f"{endpoint.id:>4}  {endpoint.organisation.slug:<16} {endpoint.name:<20} {state:<8}"
            f" {endpoint.url}  key {services.mask(endpoint.key)}  pending {h.pending}"
            f"  delivered {h.delivered}  parked {h.parked}"
        )
        if endpoint.paused_reason:
            click.echo(f"      paused: {endpoint.paused_reason}")
    if not endpoints:
        click.echo("No endpoints.")


@endpoint_cli.command("test")
@click.argument("endpoint_id", type=int)
def test_command(endpoint_id):
    """Call the LRS's /about with the endpoint's settings."""
    with _default_locale():
        report = services.check_connection(_endpoint(endpoint_id))
    click.echo(str(report.message))
    if not report.ok:
        raise SystemExit(1)


@endpoint_cli.command("disable")
@click.argument("endpoint_id", type=int)
def disable_command(endpoint_id):
    """Stop delivering to an endpoint (it receives no new statements)."""
    services.set_enabled(_endpoint(endpoint_id), False, by=None)
    db.session.commit()
    click.echo(f"Endpoint {endpoint_id} disabled.")


@endpoint_cli.command("enable")
@click.argument("endpoint_id", type=int)
def enable_command(endpoint_id):
    """Deliver to an endpoint again."""
    services.set_enabled(_endpoint(endpoint_id), True, by=None)
    db.session.commit()
    click.echo(f"Endpoint {endpoint_id} enabled.")


@endpoint_cli.command("resume")
@click.argument("endpoint_id", type=int)
def resume_command(endpoint_id):
    """Resume delivery to an endpoint paused after the LRS refused it."""
    services.resume(_endpoint(endpoint_id), by=None)
    db.session.commit()
    click.echo(f"Endpoint {endpoint_id} resumed.")


@xapi_cli.command("worker")
@click.option("--once", is_flag=True, help="Deliver what is due, then exit.")
@click.option("--threads", type=click.IntRange(1, 16), default=1, show_default=True)
def worker_command(once, threads):
    """Deliver statements to the LRS endpoints until stopped (SIGTERM or Ctrl-C)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()

    def request_stop(signum, _frame):
        logging.getLogger(__name__).info("signal %s: finishing the current batch", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    app = current_app._get_current_object()
    settled = worker.run_workers(app, threads=threads, once=once, stop=stop)
    click.echo(f"Worker stopped after settling {settled} deliveries.")


@xapi_cli.command("backfill")
@click.option("--endpoint", "endpoint_id", type=int, required=True)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Only statements written from this date (UTC).",
)
def backfill_command(endpoint_id, since):
    """Queue for an endpoint the stored statements it has not received yet."""
    since = since.replace(tzinfo=UTC) if isinstance(since, datetime) else None
    count = services.backfill(_endpoint(endpoint_id), since=since)
    db.session.commit()
    click.echo(f"{count} statements queued for endpoint {endpoint_id}.")


@xapi_cli.command("resend")
@click.option("--endpoint", "endpoint_id", type=int, required=True)
def resend_command(endpoint_id):
    """Queue every parked statement of an endpoint again."""
    count = services.resend_all(_endpoint(endpoint_id), by=None)
    db.session.commit()
    click.echo(f"{count} parked statements queued again for endpoint {endpoint_id}.")
