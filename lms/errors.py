"""The error every feature raises when its rules refuse a request."""

from __future__ import annotations


class RuleError(ValueError):
    """A request the rules refuse. The message is for the person (a lazy translation);
    ``field`` names the form field at fault, if any."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return str(self.message)
