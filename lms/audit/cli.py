"""``flask --app wsgi lms audit verify``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from lms.audit import services
from lms.audit.models import AuditRecord
from lms.extensions import db

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def verify_command():
    """Check the hash chain; exit 1 and name the first broken record if any."""
    broken = services.verify()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord))
    if broken is not None:
        click.echo(f"Audit trail BROKEN at record {broken.record_id}: {broken.reason}.", err=True)
        raise SystemExit(1)
    click.echo(f"Audit trail intact: {count} records.")
