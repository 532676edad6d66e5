"""``flask --app wsgi lms lti ...``: platform registrations, our keys, the score worker."""

from __future__ import annotations

import logging
import signal
import threading

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from lms.auth import services as accounts
from lms.extensions import db
from lms.lti import delivery, keys, services
from lms.lti.models import Platform

log = logging.getLogger(__name__)

lti_cli = AppGroup("lti", help="LTI 1.3: host learning platforms, keys and grade passback.")
platform_cli = AppGroup("platform", help="Platform registrations.")
keys_cli = AppGroup("keys", help="This tool's signing keys (published as JWKS).")
scores_cli = AppGroup("scores", help="Scores owed to platforms' grade books.")
for group in (platform_cli, keys_cli, scores_cli):
    lti_cli.add_command(group)


@platform_cli.command("add")
@click.option("--organisation", "org_slug", required=True, help="Organisation short name.")
@click.option("--name", required=True, help="A name for this platform.")
@click.option("--issuer", required=True, help="The platform's issuer (iss).")
@click.option("--client-id", required=True, help="The client id it gave this tool.")
@click.option("--deployment", "deployments", multiple=True, required=True, help="Repeatable.")
@click.option("--login-url", required=True, help="OIDC authentication request URL.")
@click.option("--token-url", required=True, help="OAuth 2 access token URL.")
@click.option("--keyset-url", required=True, help="The platform's public keyset URL (JWKS).")
@click.option("--token-audience", default=None, help="Token audience, if not the token URL.")
def add_command(
    org_slug, name, issuer, client_id, deployments, login_url, token_url, keyset_url, token_audience
):
    """Register a platform for an organisation."""
    org = accounts.find_organisation(org_slug)
    if org is None:
        raise click.ClickException(f"No organisation with the short name {org_slug!r}.")
    try:
        platform = services.register_platform(
            organisation=org,
            deployment_ids=deployments,
            name=name,
            issuer=issuer,
            client_id=client_id,
            auth_login_url=login_url,
            auth_token_url=token_url,
            auth_audience=token_audience,
            keyset_url=keyset_url,
        )
    except services.PlatformError as error:
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            raise click.ClickException(f"{error.field or 'platform'}: {error}") from error
    db.session.commit()
    click.echo(f"Registered platform {platform.id}: {platform.name} ({platform.issuer}).")


@platform_cli.command("list")
def list_command():
    """List the registered platforms."""
    found = db.session.scalars(sa.select(Platform).order_by(Platform.id)).all()
    if not found:
        click.echo("No platform registered.")
    for platform in found:
        state = "enabled" if platform.enabled else "disabled"
        click.echo(
            f"{platform.id}\t{platform.organisation.slug}\t{platform.name}\t{platform.issuer}"
            f"\tclient {platform.client_id}\tdeployments {','.join(platform.deployment_ids)}"
            f"\t{state}"
        )


@keys_cli.command("rotate")
def rotate_command():
    """Make a new signing key; the previous one stays published for a while."""
    key = keys.rotate()
    db.session.commit()
    click.echo(f"New signing key {key.kid}; retired keys stay published for 7 days.")


@keys_cli.command("list")
def keys_list_command():
    """List our keys and whether they are published."""
    published = {key.id for key in keys.published_keys()}
    for key in keys.all_keys():
        state = "current" if key.is_current else ("published" if key.id in published else "gone")
        click.echo(f"{key.kid}\t{key.created_at:%Y-%m-%d %H:%M}\t{state}")


@scores_cli.command("send")
@click.option("--loop", is_flag=True, help="Keep sending until stopped (a worker).")
@click.option("--interval", type=click.FloatRange(0.1), default=5.0, show_default=True)
def send_command(loop: bool, interval: float):
    """Send the scores due to platforms' grade books (AGS)."""
    stop = threading.Event()
    if loop:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_args: stop.set())
    total = delivery.SendReport()
    while True:
        report = delivery.send_due()
        total.sent += report.sent
        total.retried += report.retried
        total.failed += report.failed
        if not loop and report.settled < delivery.CLAIM_SIZE:
            break
        if loop and report.settled == 0:
            stop.wait(interval)
        if stop.is_set():
            break
    click.echo(f"Scores sent: {total.sent}, to retry: {total.retried}, failed: {total.failed}.")
