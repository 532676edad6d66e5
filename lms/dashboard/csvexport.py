"""CSV files for spreadsheets: UTF-8 with a byte order mark, every field quoted as
needed, and cells a spreadsheet would run as a formula neutralised.

Pure: takes rows of plain values, returns text. No Flask, no database.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

BOM = "\ufeff"
#: A cell starting with one of these is a formula (or becomes one) in Excel, LibreOffice
#: or Google Sheets: it gets a leading apostrophe (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: Any) -> str:
    """``value`` as the text of one cell: None is empty, dates are ISO 8601, numbers are
    left alone, and text that a spreadsheet would evaluate is prefixed with ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    """The CSV document (BOM first, CRLF line ends, RFC 4180 quoting) of ``header`` and
    ``rows``; every cell, the header's included, goes through ``cell_text``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([cell_text(value) for value in header])
    for row in rows:
        writer.writerow([cell_text(value) for value in row])
    return BOM + buffer.getvalue()


def content_disposition(filename: str) -> str:
    """An ``attachment`` header value for an ASCII ``filename``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in filename)
    return f'attachment; filename="{safe}"'
