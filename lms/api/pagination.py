"""Cursor pagination of API lists (keyset: stable while rows are added, cheap at depth).

A list is ordered by a few columns ending with a unique one. The cursor is the sort key
of the last item of a page, as URL-safe base64 of a JSON array: opaque to clients, and
checked when it comes back (a tampered cursor is a 400). A page answers
``{"data": [...], "next_cursor": ..., "links": {"next": ...}}`` and, when there is more,
a ``Link: <...>; rel="next"`` header.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import request
from flask_babel import gettext as _

from lms.api import params
from lms.api.errors import bad_request
from lms.extensions import db

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_CURSOR_LENGTH = 512


@dataclass(frozen=True)
class Keyset:
    """The sort key of a list: ``(attribute, kind)`` pairs, kind ``int``, ``str`` or
    ``datetime``; the last attribute must be unique. All ascending or all descending."""

    keys: tuple[tuple[Any, str], ...]
    descending: bool = False

    def order(self, query: sa.Select) -> sa.Select:
        return query.order_by(
            *(column.desc() if self.descending else column.asc() for column, _kind in self.keys)
        )

    def after(self, values: list[Any]) -> sa.ColumnElement[bool]:
        """Rows that come after the row whose sort key is ``values``."""
        clauses = []
        for index, (column, _kind) in enumerate(self.keys):
            equal = [self.keys[i][0] == values[i] for i in range(index)]
            beyond = column < values[index] if self.descending else column > values[index]
            clauses.append(sa.and_(*equal, beyond))
        return sa.or_(*clauses)

    def values_of(self, item: Any) -> list[Any]:
        return [getattr(item, column.key) for column, _kind in self.keys]

    def encode(self, item: Any) -> str:
        values = [
            value.isoformat() if isinstance(value, datetime) else value
            for value in self.values_of(item)
        ]
        raw = json.dumps(values, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, cursor: str) -> list[Any]:
        """The sort key in ``cursor``; raises a 400 ``ApiError`` when it is not one."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            values = json.loads(raw.decode())
        except (binascii.Error, ValueError, UnicodeDecodeError):
            values = None
        if not isinstance(values, list) or len(values) != len(self.keys):
            raise _bad_cursor()
        return [
            _checked(value, kind) for value, (_column, kind) in zip(values, self.keys, strict=True)
        ]


def _bad_cursor():
    return bad_request(
        _("The cursor is not valid: use the next_cursor of the previous page."),
        parameter="cursor",
    )


def _checked(value: Any, kind: str) -> Any:
    if kind == "int" and type(value) is int and abs(value) < 2**62:
        return value
    if kind == "str" and isinstance(value, str) and len(value) <= 254 and value.isprintable():
        return value
    if kind == "datetime":
        moment = params.parse_datetime(value)
        if moment is not None:
            return moment
    raise _bad_cursor()


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def page_size() -> int:
    return params.integer("limit", default=DEFAULT_PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)


def paginate(query: sa.Select, keyset: Keyset) -> Page:
    """The page of ``query`` that the request's ``cursor`` and ``limit`` ask for."""
    limit = page_size()
    cursor = request.args.get("cursor")
    if cursor:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise _bad_cursor()
        query = query.where(keyset.after(keyset.decode(cursor)))
    rows = list(db.session.scalars(keyset.order(query).limit(limit + 1)).unique())
    items = rows[:limit]
    more = len(rows) > limit
    return Page(items, keyset.encode(items[-1]) if more and items else None)


def next_link(cursor: str | None) -> str | None:
    """The address of the next page: this request's, with ``cursor`` replaced."""
    if cursor is None:
        return None
    args = [(key, value) for key, value in request.args.items(multi=True) if key != "cursor"]
    args.append(("cursor", cursor))
    return f"{request.base_url}?{urlencode(args)}"


def envelope(page: Page, data: list[Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The JSON body of a page and its headers (``Link`` when there is a next page)."""
    link = next_link(page.next_cursor)
    headers = {"Link": f'<{link}>; rel="next"'} if link else {}
    return {"data": data, "next_cursor": page.next_cursor, "links": {"next": link}}, headers
