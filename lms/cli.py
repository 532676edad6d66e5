"""The ``flask --app wsgi lms ...`` command group; features contribute their commands."""

from __future__ import annotations

from flask import Flask
from flask.cli import AppGroup


def register(app: Flask) -> AppGroup:
    from lms.api.cli import api_cli
    from lms.audit.cli import audit_cli
    from lms.auth.cli import create_organisation_command, create_user_command, demo_setup_command
    from lms.catalog.cli import modules_cli
    from lms.cmi5.cli import cmi5_cli, export_cmi5_command
    from lms.demo.cli import demo_data_command
    from lms.lti.cli import lti_cli

    group = AppGroup("lms", help="Administration of the LMS service.")
    modules_cli.add_command(export_cmi5_command)
    for command in (
        create_user_command,
        create_organisation_command,
        demo_setup_command,
        demo_data_command,
        audit_cli,
        modules_cli,
        cmi5_cli,
        api_cli,
        lti_cli,
    ):
        group.add_command(command)
    app.cli.add_command(group)
    return group
