"""The CSV file format: BOM, quoting, and formulas neutralised (no app needed)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest

from lms.dashboard.csvexport import BOM, cell_text, content_disposition, to_csv


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 12", "'+33 6 12"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("Léa Dupont", "Léa Dupont"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (87, "87"),
        (-3, "-3"),
        (0.5, "0.5"),
        (True, "yes"),
        (date(2027, 3, 1), "2027-03-01"),
        (datetime(2027, 3, 1, 8, 30, tzinfo=UTC), "2027-03-01T08:30:00+00:00"),
    ],
)
def test_cell_text(value, expected):
    assert cell_text(value) == expected


def test_document_starts_with_a_bom_and_ends_lines_with_crlf():
    text = to_csv(["Name", "Score"], [["Léa", 90]])
    assert text.startswith(BOM)
    assert text == BOM + "Name,Score\r\nLéa,90\r\n"
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")


def test_commas_quotes_and_line_breaks_are_quoted_and_read_back():
    tricky = ['Dupont, "Léa"', "two\nlines", "=cmd|' /C calc'!A0"]
    text = to_csv(["a", "b", "c"], [tricky])
    assert '"Dupont, ""Léa"""' in text
    [header, row] = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert header == ["a", "b", "c"]
    assert row == ['Dupont, "Léa"', "two\nlines", "'=cmd|' /C calc'!A0"]


def test_the_header_is_neutralised_too():
    assert to_csv(["=title"], []).removeprefix(BOM) == "'=title\r\n"


def test_content_disposition_keeps_the_name_ascii_and_quoted():
    assert content_disposition("matrix 2027.csv") == 'attachment; filename="matrix-2027.csv"'
    assert content_disposition('a"b\r\n.csv') == 'attachment; filename="a-b--.csv"'
