"""Server-drawn SVG charts: labelled for screen readers, escaped, and backed by a table."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from flask import render_template_string

from lms.dashboard import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(drawn) -> ET.Element:
    return ET.fromstring(str(drawn))  # noqa: S314 - our own output, parsed to check it


def chart(**overrides):
    fields = {
        "key": "hours",
        "title": "Training hours by month",
        "description": "Hours of training per month, by learner category.",
        "categories": ["2026-09", "2026-10", "2026-11"],
        "series": [
            charts.Series("Workers", [10, 20, 5]),
            charts.Series("Job-seekers", [4, 0, 12]),
        ],
        "value_label": "Hours",
        "category_label": "Month",
    }
    return charts.BarChart(**{**fields, **overrides})


@pytest.mark.parametrize(
    ("highest", "expected"),
    [
        (0, [0.0, 1.0]),
        (7, [0, 2, 4, 6, 8]),
        (100, [0, 20, 40, 60, 80, 100]),
        (1234, [0, 250, 500, 750, 1000, 1250]),
        (0.93, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    ],
)
def test_ticks_are_round_numbers_reaching_the_highest_value(highest, expected):
    assert charts.nice_ticks(highest) == pytest.approx(expected)


def test_the_drawing_is_an_image_named_by_its_title_and_description():
    root = parse(charts.svg(chart()))
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "hours-title hours-desc"
    assert root.find(f"{SVG}title").text == "Training hours by month"
    assert root.find(f"{SVG}desc").text.startswith("Hours of training per month")


def test_grouped_bars_are_as_tall_as_their_values():
    root = parse(charts.svg(chart()))
    bars = {
        rect.find(f"{SVG}title").text: float(rect.get("height"))
        for rect in root.iter(f"{SVG}rect")
        if rect.find(f"{SVG}title") is not None
    }
    # The zero value draws no bar; the others are proportional.
    assert "2026-10, Job-seekers: 0" not in bars
    assert bars["2026-10, Workers: 20"] == pytest.approx(2 * bars["2026-09, Workers: 10"], abs=0.2)
    assert bars["2026-11, Job-seekers: 12"] > bars["2026-09, Job-seekers: 4"]


def test_stacked_bars_pile_up_to_the_total():
    stacked = chart(stacked=True)
    assert stacked.totals == [14, 20, 17]
    assert stacked.highest == 20
    root = parse(charts.svg(stacked))
    rects = [r for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    first = [r for r in rects if r.find(f"{SVG}title").text.startswith("2026-09")]
    # The second series sits on top of the first, in the same column.
    assert first[0].get("x") == first[1].get("x")
    top_of_first = float(first[0].get("y"))
    assert float(first[1].get("y")) + float(first[1].get("height")) == pytest.approx(
        top_of_first, abs=0.2
    )


def test_series_differ_by_pattern_as_well_as_colour_for_black_and_white_print():
    root = parse(charts.svg(chart()))
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None}
    assert fills == {charts.PALETTE[0], "url(#hours-p1)"}
    assert root.find(f".//{SVG}pattern[@id='hours-p1']") is not None


def test_text_from_data_is_escaped():
    hostile = chart(
        title="<script>alert(1)</script>",
        categories=["<b>x</b>", "y", "z"],
    )
    drawn = str(charts.svg(hostile))
    assert "<script>" not in drawn and "<b>" not in drawn
    parse(drawn)  # still well-formed


def test_the_figure_carries_the_same_numbers_as_a_table(app):
    macro = '{% from "dashboard/_charts.html" import chart %}{{ chart(c) }}'
    with app.test_request_context("/"):
        html = render_template_string(macro, c=chart(stacked=True))
    assert "<caption>Data of the chart “Training hours by month”</caption>" in html
    assert '<th scope="col">Month</th>' in html
    row = re.search(r'<th scope="row">2026-11</th>(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["5", "12", "17"]
    assert "Job-seekers</li>" in html  # the legend names the series


def test_an_empty_chart_says_so_instead_of_drawing_nothing(app):
    empty = chart(series=[charts.Series("Workers", [0, 0, 0])])
    macro = '{% from "dashboard/_charts.html" import chart %}{{ chart(c) }}'
    with app.test_request_context("/"):
        html = render_template_string(macro, c=empty)
    assert "<svg" not in html.split("<table")[0]
    assert "Nothing to draw yet" in html
