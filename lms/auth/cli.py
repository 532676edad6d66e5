"""Account commands: create users and organisations, and the demo set-up of ``make run``."""

from __future__ import annotations

import secrets

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from lms.auth import services
from lms.auth.models import LEARNER_CATEGORIES, ROLES, SECTORS, User
from lms.extensions import db


@click.command("create-user")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option("--organisation", "org_slug", required=True, help="Organisation slug.")
@click.option("--role", type=click.Choice(ROLES), default="learner", show_default=True)
@click.option("--category", type=click.Choice(LEARNER_CATEGORIES), default=None)
@click.option("--sector", type=click.Choice(SECTORS), default=None)
@click.option("--language", type=click.Choice(["en", "fr"]), default=None)
@click.password_option(
    "--password",
    envvar="LMS_NEW_USER_PASSWORD",
    help="Read from a prompt or LMS_NEW_USER_PASSWORD; never put it on the command line.",
)
@with_appcontext
def create_user_command(email, display_name, org_slug, role, category, sector, language, password):
    """Create a user account."""
    org = services.find_organisation(org_slug)
    if org is None:
        raise click.ClickException(f"No organisation with the short name {org_slug!r}.")
    if len(password) < current_app.config["PASSWORD_MIN_LENGTH"]:
        raise click.ClickException(
            f"The password needs at least {current_app.config['PASSWORD_MIN_LENGTH']} characters."
        )
    try:
        user = services.create_user(
            email=email,
            display_name=display_name,
            password=password,
            organisation=org,
            role=role,
            learner_category=category,
            sector=sector,
            language=language,
        )
    except services.AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} in {org.slug} (public id {user.public_id}).")


@click.command("create-organisation")
@click.option("--name", required=True)
@click.option("--slug", required=True)
@click.option("--actor-mode", type=click.Choice(["account", "mbox"]), default="account")
@click.option("--self-registration/--no-self-registration", default=False)
@click.option("--centre", is_flag=True, help="This organisation is the training centre itself.")
@with_appcontext
def create_organisation_command(name, slug, actor_mode, self_registration, centre):
    """Create an organisation."""
    try:
        org = services.create_organisation(
            name=name,
            slug=slug,
            actor_mode=actor_mode,
            self_registration=self_registration,
            is_centre=centre,
        )
    except services.AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created organisation {org.slug}.")


DEMO_ACCOUNTS = (
    ("admin", "admin@demo.example.org", "Demo Admin", None),
    ("trainer", "trainer@demo.example.org", "Demo Trainer", None),
    ("learner", "learner@demo.example.org", "Demo Learner", "worker"),
)


@click.command("demo-setup")
@with_appcontext
def demo_setup_command():
    """On an empty development database, create a demo centre with three accounts.

    Their random passwords are printed once. Refused outside development.
    """
    if current_app.config["ENV"] != "development":
        raise click.ClickException("Demo accounts are only created in development (LMS_ENV).")
    if db.session.scalar(sa.select(sa.func.count()).select_from(User)):
        click.echo("Accounts exist already; no demo accounts created.")
        return
    org = services.create_organisation(
        name="Demo Training Centre", slug="demo", self_registration=True, is_centre=True
    )
    lines = []
    for role, email, name, category in DEMO_ACCOUNTS:
        password = secrets.token_urlsafe(12)
        services.create_user(
            email=email,
            display_name=name,
            password=password,
            organisation=org,
            role=role,
            learner_category=category,
            sector="biopharma" if role == "learner" else None,
        )
        lines.append(f"  {role:<8} {email:<24} {password}")
    db.session.commit()
    click.echo("Demo accounts (shown once; change them or create your own):")
    click.echo("\n".join(lines))
