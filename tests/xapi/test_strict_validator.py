"""Every kind of statement through Learning Locker's strict validator (npm xapi-validation)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from lms.xapi.statements import BuildSettings, build_statement
from tests.npm import npm_package
from tests.xapi.events import every_event, person

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "validate_statements.js"


@pytest.fixture(scope="session")
def strict_validator():
    """The validator script, with ``xapi-validation`` installed beside it if missing."""
    npm_package(HERE, "xapi-validation", "xapi-validation@^2")

    def run(statements: list[dict]) -> list[dict]:
        done = subprocess.run(
            ["node", str(SCRIPT)],
            input=json.dumps(statements),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            cwd=HERE,
        )
        return json.loads(done.stdout)

    return run


def test_strict_validator_catches_a_broken_statement(strict_validator):
    [report] = strict_validator(
        [{"id": "nope", "actor": {}, "verb": {"id": "x"}, "object": {"id": "y"}}]
    )
    assert {e["path"] for e in report["errors"]} >= {"statement.id", "statement.verb.id"}


@pytest.mark.parametrize("mode", ["account", "mbox"])
def test_every_kind_of_statement_passes_the_strict_validator(strict_validator, mode):
    settings = BuildSettings(base_url="http://127.0.0.1:5000", platform="LMS", language="en")
    statements = [
        build_statement(event, settings)
        for event in every_event(person(mode=mode), person(mode=mode))
    ]
    reports = strict_validator(statements)
    assert [r for r in reports if r["errors"]] == []
    assert len(reports) == len(statements)
