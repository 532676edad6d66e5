"""Errors of the practicals feature."""

from lms.errors import RuleError


class PracticalError(RuleError):
    """A request the practicals rules refuse."""
