"""Dashboard routes: results (registered on the dashboard blueprint of ``views``)."""

from __future__ import annotations

from lms.dashboard.views import bp, staff_only  # noqa: F401
