"""Reading the query string and path of API requests: bad input is a 400, never a 500.

Every text is checked before it reaches the database (PostgreSQL refuses NUL bytes;
identifiers have a known shape, so a malformed one is simply not found).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from flask import request
from flask_babel import gettext as _

from lms.api.errors import bad_request

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
_UUID = re.compile(UUID_PATTERN)
_SLUG = re.compile(SLUG_PATTERN)
#: Dates outside these years are refused (rules compute months before and after them).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2999


def is_uuid(value: str) -> bool:
    return bool(_UUID.fullmatch(value))


def is_slug(value: str) -> bool:
    return bool(_SLUG.fullmatch(value))


def _printable(value: str) -> bool:
    return all(ord(char) >= 32 and char != "\x7f" for char in value)


def text(name: str, *, max_length: int = 254) -> str | None:
    """The query argument ``name`` (trimmed), or None when absent or empty."""
    value = request.args.get(name)
    if value is None:
        return None
    value = value.strip()
    if len(value) > max_length or not _printable(value):
        raise bad_request(_("The parameter %(name)s is not valid.", name=name), parameter=name)
    return value or None


def choice(name: str, choices: tuple[str, ...], default: str) -> str:
    value = request.args.get(name)
    if value is None:
        return default
    if value not in choices:
        raise bad_request(
            _(
                "The parameter %(name)s must be one of: %(choices)s.",
                name=name,
                choices=", ".join(choices),
            ),
            parameter=name,
        )
    return value


def integer(name: str, *, default: int, minimum: int, maximum: int) -> int:
    value = request.args.get(name)
    if value is None:
        return default
    if not re.fullmatch(r"[0-9]{1,9}", value) or not minimum <= int(value) <= maximum:
        raise bad_request(
            _(
                "The parameter %(name)s must be a whole number from %(low)d to %(high)d.",
                name=name,
                low=minimum,
                high=maximum,
            ),
            parameter=name,
        )
    return int(value)


def parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 date-time with a time zone, in UTC; None when it is not one."""
    if not isinstance(value, str) or len(value) > 40 or not value.isascii():
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None or not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        return None
    try:
        moment = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return moment if EARLIEST_YEAR <= moment.year <= LATEST_YEAR else None


def date_time(name: str) -> datetime | None:
    """The query argument ``name`` as an aware UTC datetime, or None when absent."""
    value = request.args.get(name)
    if value is None:
        return None
    moment = parse_datetime(value)
    if moment is None:
        raise bad_request(
            _(
                "The parameter %(name)s must be a date and time with a time zone, "
                "such as 2030-01-31T09:00:00Z, between the years %(low)d and %(high)d.",
                name=name,
                low=EARLIEST_YEAR,
                high=LATEST_YEAR,
            ),
            parameter=name,
        )
    return moment
