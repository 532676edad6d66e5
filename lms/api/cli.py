"""``flask --app wsgi lms api token create|list|revoke``: API tokens from the command line."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from lms.api import services
from lms.api.forms import expiry_moment
from lms.api.models import SCOPES, ApiToken
from lms.auth import services as accounts
from lms.db_types import utcnow
from lms.extensions import db

api_cli = AppGroup("api", help="The JSON API for host learning platforms.")
token_cli = AppGroup("token", help="API tokens: create, list, revoke.")
api_cli.add_command(token_cli)


@token_cli.command("create")
@click.option("--organisation", "org_slug", required=True, help="Organisation slug.")
@click.option("--name", required=True, help="Which platform or integration uses it.")
@click.option("--scope", type=click.Choice(SCOPES), default="read", show_default=True)
@click.option(
    "--expires", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, help="YYYY-MM-DD (UTC)."
)
def create_command(org_slug, name, scope, expires):
    """Create a token and print it (the only time it is shown)."""
    org = accounts.find_organisation(org_slug)
    if org is None:
        raise click.ClickException(f"No organisation with the short name {org_slug!r}.")
    try:
        issued = services.create_token(
            organisation=org,
            name=name,
            scope=scope,
            expires_at=expiry_moment(expires.date()) if expires else None,
            by=None,
            now=utcnow(),
        )
    except services.TokenError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {scope} token {issued.token.prefix} ({issued.token.name}) for {org.slug}.")
    click.echo("Store it now; it is not shown again:", err=True)
    click.echo(issued.plain)


@token_cli.command("list")
@click.option("--organisation", "org_slug", default=None, help="Only this organisation's.")
def list_command(org_slug):
    """List tokens: prefix, organisation, scope, state, name."""
    query = sa.select(ApiToken).order_by(ApiToken.created_at, ApiToken.id)
    if org_slug:
        org = accounts.find_organisation(org_slug)
        if org is None:
            raise click.ClickException(f"No organisation with the short name {org_slug!r}.")
        query = query.where(ApiToken.organisation_id == org.id)
    now = utcnow()
    for token in db.session.scalars(query):
        if token.is_revoked:
            state = f"revoked {token.revoked_at:%Y-%m-%d}"
        elif token.is_expired(now):
            state = "expired"
        else:
            state = "active"
        click.echo(
            f"{token.prefix}\t{token.organisation.slug}\t{token.scope}\t{state}\t{token.name}"
        )


@token_cli.command("revoke")
@click.argument("prefix")
def revoke_command(prefix):
    """Revoke the token whose prefix (lms_...) is PREFIX."""
    token = services.find_by_prefix(prefix)
    if token is None:
        raise click.ClickException(f"No token with the prefix {prefix!r}.")
    try:
        services.revoke_token(token, by=None, now=utcnow())
    except services.TokenError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Revoked {token.prefix} ({token.name}).")
