"""``flask --app wsgi lms modules export-cmi5 ID`` and ``flask --app wsgi lms cmi5 ...``."""

from __future__ import annotations

import time
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from lms.auth.models import Organisation
from lms.catalog import services as catalog
from lms.catalog.models import Module
from lms.cmi5 import export, outbox, services
from lms.cmi5.models import Cmi5Platform
from lms.extensions import db


@click.command("export-cmi5")
@click.argument("module_id")
@click.option(
    "--output",
    "output",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The folder to write into (created if missing).",
)
@click.option("--zip", "as_zip", is_flag=True, help="Write a course package (ZIP) instead.")
def export_cmi5_command(module_id: str, output: Path, as_zip: bool):
    """Write the cmi5 course structure of module MODULE_ID.

    Writes OUTPUT/cmi5.xml, or OUTPUT/MODULE_ID-cmi5.zip with --zip, for a cmi5 LMS to
    import; its assignable unit launches the module from LMS_PUBLIC_BASE_URL.
    """
    module = catalog.find_module(module_id)
    if module is None:
        known = ", ".join(db.session.scalars(sa.select(Module.id).order_by(Module.id))) or "none"
        raise click.ClickException(
            f"No module {module_id!r} is loaded (loaded: {known}). "
            "Load it first with `flask --app wsgi lms modules sync`."
        )
    base_url = current_app.config["PUBLIC_BASE_URL"]
    output.mkdir(parents=True, exist_ok=True)
    if as_zip:
        target = output / f"{module.id}-cmi5.zip"
        target.write_bytes(export.course_package(module.current_version, base_url))
    else:
        target = output / export.FILE_NAME
        target.write_bytes(export.course_structure(module.current_version, base_url))
    click.echo(f"wrote {target}")


cmi5_cli = AppGroup("cmi5", help="Host LMSs that launch our modules through cmi5.")


@cmi5_cli.command("add-platform")
@click.option("--name", required=True, help="The LMS's name, as people know it.")
@click.option("--organisation", "slug", required=True, help="Slug of the learners' organisation.")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help="An address of the LMS (its fetch URLs) or of its LRS; repeat for several.",
)
def add_platform_command(name: str, slug: str, origins: tuple[str, ...]):
    """Allow an LMS to launch our modules; its learners join the organisation."""
    organisation = db.session.scalar(sa.select(Organisation).where(Organisation.slug == slug))
    if organisation is None:
        raise click.ClickException(f"No organisation with slug {slug!r}.")
    try:
        platform = services.create_platform(name=name, organisation=organisation, origins=origins)
    except services.PlatformError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"platform {platform.name}: {' '.join(platform.origins)} -> {slug}")


@cmi5_cli.command("platforms")
def platforms_command():
    """List the LMSs allowed to launch our modules."""
    for platform in db.session.scalars(sa.select(Cmi5Platform).order_by(Cmi5Platform.name)):
        state = "enabled" if platform.enabled else "disabled"
        click.echo(
            f"{platform.name}\t{state}\t{platform.organisation.slug}\t{' '.join(platform.origins)}"
        )


@cmi5_cli.command("set-platform")
@click.argument("name")
@click.option("--enable/--disable", "enabled", required=True)
def set_platform_command(name: str, enabled: bool):
    """Enable or disable the launches of platform NAME."""
    platform = db.session.scalar(sa.select(Cmi5Platform).where(Cmi5Platform.name == name))
    if platform is None:
        raise click.ClickException(f"No platform named {name!r}.")
    services.set_platform_enabled(platform, enabled)
    db.session.commit()
    click.echo(f"platform {name}: {'enabled' if enabled else 'disabled'}")


@cmi5_cli.command("deliver")
@click.option("--watch", is_flag=True, help="Keep running; look for due statements every few s.")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between two passes.")
def deliver_command(watch: bool, interval: float):
    """Send the cmi5 statements that wait for their LMS (after an outage, say).

    Exits 1 when some are still waiting or were refused (parked) after a single pass.
    """
    while True:
        waiting = parked = delivered = 0
        for session_id in outbox.due_sessions():
            report = outbox.deliver(session_id)
            delivered += report.delivered
            waiting += report.waiting
            parked += report.parked
            for reason in report.parked_reasons:
                click.echo(f"parked: {reason}", err=True)
        if delivered or waiting or parked or not watch:
            click.echo(f"delivered {delivered}, waiting {waiting}, parked {parked}")
        if not watch:
            if waiting or parked:
                raise SystemExit(1)
            return
        time.sleep(interval)
