"""Progress fixtures: reuse the quiz's packages, people and clock."""

from __future__ import annotations

from tests.catalog.conftest import as_role, loaded, module_root, sync_modules, world  # noqa: F401
from tests.quiz.conftest import clock  # noqa: F401
