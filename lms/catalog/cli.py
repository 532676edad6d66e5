"""``flask --app wsgi lms modules check PATH`` and ``... lms modules sync``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from lms.catalog.checking import check_path
from lms.catalog.sync import sync_packages
from lms.extensions import db
from lms.practicals.loading import check_practicals, sync_practicals

modules_cli = AppGroup("modules", help="Check and load the module packages.")


def default_modules_path() -> Path:
    """``MODULES_PATH`` from the configuration, else ``modules/`` beside the package."""
    configured = current_app.config.get("MODULES_PATH")
    return Path(configured) if configured else Path(current_app.root_path).parent / "modules"


@modules_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
def check_command(paths: tuple[Path, ...]):
    """Check packages: each PATH is a module folder or a folder of modules.

    Prints every problem as ``file:line: field: message``; exits 1 on any problem.
    Practical types (modules/practicals/*.yaml) are checked too.
    """
    failed = False
    for root in paths or (default_modules_path(),):
        for result in check_path(root):
            for problem in sorted(result.problems):
                click.echo(problem.format(str(result.path)))
                failed = True
        for line in check_practicals(root):
            click.echo(line)
            failed = True
    if failed:
        raise SystemExit(1)


@modules_cli.command("sync")
@click.option(
    "--path",
    "root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder of module packages (default: MODULES_PATH or modules/).",
)
def sync_command(root: Path | None):
    """Load every package: new versions of changed ones; a broken one loads nothing.

    Exits 1 when a package was refused (the others are loaded all the same).
    """
    root = root or default_modules_path()
    try:
        report = sync_packages(root)
    except FileNotFoundError as error:
        raise click.ClickException(str(error)) from error
    practicals = sync_practicals(root)
    db.session.commit()
    for entry in report.entries:
        digest = (entry["content_hash"] or "")[:12]
        click.echo(f"{entry['outcome']:<9} {entry['module'] or entry['path']} {digest}".rstrip())
        for problem in entry["problems"]:
            click.echo(f"  {problem}", err=True)
    for entry in practicals:
        digest = (entry.content_hash or "")[:12]
        click.echo(f"{entry.outcome:<9} practical {entry.practical} {digest}".rstrip())
        for problem in entry.problems:
            click.echo(f"  {problem}", err=True)
    if report.refused or any(entry.outcome == "refused" for entry in practicals):
        raise SystemExit(1)
