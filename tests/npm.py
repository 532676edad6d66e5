"""npm packages that tests run (a strict xAPI validator, axe-core), installed on first use
beside the tests that need them; skipped, with the reason, where npm cannot reach them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def npm_package(directory: Path, name: str, spec: str) -> Path:
    """The folder of npm package ``name`` under ``directory/node_modules``, installed from
    ``spec`` (e.g. ``axe-core@^4``) if missing. Skips the test without npm or registry,
    except in CI (``CI`` set), where a missing tool is a failure."""
    package = directory / "node_modules" / name
    if package.exists():
        return package
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("Node.js and npm are not installed")
    command = ["npm", "install", "--no-save", "--no-audit", "--no-fund", "--prefix"]
    try:
        subprocess.run(
            [*command, str(directory), spec],
            check=True,
            capture_output=True,
            text=True,
            timeout=180,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        output = getattr(error, "stderr", "") or ""
        _unavailable(f"npm could not install {spec} (registry unreachable?): {output[-300:]}")
    return package


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)
