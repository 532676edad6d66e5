"""The migrations build exactly the models' schema, from empty, on every backend."""

from __future__ import annotations

import os
import uuid

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from lms import create_app
from lms.extensions import db
from tests.conftest import postgres_url, test_config


@pytest.fixture()
def empty_database(backend, tmp_path):
    """A brand-new empty database on the current backend, dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    base = postgres_url()
    if not base:
        pytest.skip("PostgreSQL not selected (set LMS_TEST_DATABASE_URL)")
    name = f"lms_migrations_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        base.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def schema_diff(app) -> list:
    with db.engine.connect() as conn:
        return compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata
        )


def test_upgrade_from_empty_reaches_the_models_exactly(empty_database):
    app = create_app(test_config(empty_database))
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        assert schema_diff(app) == []
        db.engine.dispose()


def test_downgrade_to_empty_and_upgrade_again(empty_database):
    app = create_app(test_config(empty_database))
    with app.app_context():
        flask_migrate.upgrade(revision="heads")
        flask_migrate.downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        flask_migrate.upgrade(revision="heads")
        assert schema_diff(app) == []
        db.engine.dispose()


def test_migrations_have_a_single_head():
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    config = Config(os.path.join(os.path.dirname(__file__), "..", "migrations", "alembic.ini"))
    config.set_main_option(
        "script_location", os.path.join(os.path.dirname(__file__), "..", "migrations")
    )
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; chain them"
