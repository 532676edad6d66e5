"""Fixtures of the synthetic-data tests: the quiz clock (frozen, so runs compare)."""

from tests.quiz.conftest import clock  # noqa: F401
