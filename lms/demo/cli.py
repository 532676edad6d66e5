"""``flask --app wsgi lms demo-data``: a synthetic centre for benchmarks and demos."""

from __future__ import annotations

import secrets

import click
from flask.cli import with_appcontext

from lms.auth.services import hash_password
from lms.demo.generate import DatabaseNotEmpty, generate
from lms.extensions import db
from lms.quiz import clock


@click.command("demo-data")
@click.option("--learners", type=click.IntRange(1, 200_000), default=6000, show_default=True)
@click.option("--modules", type=click.IntRange(1, 2000), default=130, show_default=True)
@click.option(
    "--months",
    type=click.IntRange(1, 60),
    default=12,
    show_default=True,
    help="How far back the learning history goes.",
)
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="The same seed gives the same data (times relative to now).",
)
@click.option(
    "--append",
    is_flag=True,
    help="Add to a database that has learners already (nothing is ever deleted).",
)
@click.option(
    "--password",
    envvar="LMS_DEMO_PASSWORD",
    default=None,
    show_envvar=True,
    help="Every account's password (set it in the environment; random when unset).",
)
@with_appcontext
def demo_data_command(learners, modules, months, seed, append, password):
    """Fill the database with a synthetic training centre: organisations, staff,
    learners, cohorts, modules, learning records, practical sessions and xAPI
    statements. Every account gets one password: LMS_DEMO_PASSWORD, else a random
    one printed once.

    Refuses a database that already has learners unless --append is given; it never
    deletes or changes existing data.
    """
    chosen = password is not None
    password = password or secrets.token_urlsafe(12)
    click.echo(f"Creating {learners} learners and {modules} modules over {months} months…")
    try:
        summary = generate(
            learners=learners,
            modules=modules,
            seed=seed,
            months=months,
            now=clock.now(),
            password_hash=hash_password(password),
            append=append,
        )
    except DatabaseNotEmpty:
        db.session.rollback()
        raise click.ClickException(
            "The database already has learners; nothing was created. "
            "Use --append to add a synthetic centre beside them."
        ) from None
    db.session.commit()
    rows = sum(summary.rows.values())
    click.echo(f"Done in {summary.seconds:.1f} s: {rows:,} rows ({rows / summary.seconds:,.0f}/s).")
    for table, count in sorted(summary.rows.items()):
        click.echo(f"  {table:<28} {count:>10,}")
    for name, value in summary.details.items():
        click.echo(f"  {name}: {value}")
    click.echo(f"Largest organisation: {summary.logins['organisation']}.")
    for role in ("centre admin", "trainer"):
        if role in summary.logins:
            click.echo(f"  {role:<13} {summary.logins[role]}")
    if not chosen:
        click.echo(f"Every demo account's password (shown once): {password}")
