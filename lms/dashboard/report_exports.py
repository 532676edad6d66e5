"""The training report's tables as words, charts and CSV documents (see ``report``)."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _

from lms.auth.labels import CATEGORY_LABELS, SECTOR_LABELS
from lms.dashboard.charts import BarChart, Series
from lms.dashboard.csvexport import to_csv
from lms.dashboard.report import ATTEMPT_CAP, KINDS, Line, Report

#: The tables of the report that export to CSV.
TABLES = ("category", "sector", "month")


def kind_label(kind: str) -> str:
    return {"lesson": _("Lessons"), "quiz": _("Quizzes"), "practical": _("Practical sessions")}[
        kind
    ]


def category_label(key: str | None) -> str:
    return str(CATEGORY_LABELS[key]) if key else _("Not recorded")


def sector_label(key: str | None) -> str:
    return str(SECTOR_LABELS[key]) if key else _("Not recorded")


def month_label(month, short: bool = False) -> str:
    return format_date(month, "MMM y" if short else "MMMM y")


def hours_text(hours: float) -> str:
    """Hours as people read them: one decimal, the locale's separators."""
    return format_decimal(hours, format="#,##0.0")


def chart_hours(hours: float) -> str:
    """Hours on a chart's axis and in its data: no decimal where there is none."""
    return format_decimal(hours, format="#,##0.#")


def _kind_chart(
    key: str, texts: tuple[str, str, str], lines: list[Line], label: Callable
) -> BarChart:
    title, description, heading = texts
    return BarChart(
        key=key,
        title=title,
        description=description,
        categories=[label(line.key) for line in lines],
        series=[Series(kind_label(kind), [line.hours(kind) for line in lines]) for kind in KINDS],
        value_label=_("Hours"),
        category_label=heading,
        stacked=True,
        format_value=chart_hours,
    )


def charts(report: Report) -> dict[str, BarChart]:
    """The report's three charts: hours by category and by sector (split by kind of
    activity), and hours per month (split by learner category)."""
    return {
        "category": _kind_chart(
            "report-category",
            (
                _("Training hours by learner category"),
                _(
                    "Hours of training in the period for each learner category, split into "
                    "lessons, quizzes and practical sessions."
                ),
                _("Learner category"),
            ),
            report.categories,
            category_label,
        ),
        "sector": _kind_chart(
            "report-sector",
            (
                _("Training hours by sector"),
                _(
                    "Hours of training in the period for the learners of each sector, split "
                    "into lessons, quizzes and practical sessions."
                ),
                _("Sector"),
            ),
            report.sectors,
            sector_label,
        ),
        "month": BarChart(
            key="report-month",
            title=_("Training hours by month"),
            description=_("Hours of training in each month of the period, by learner category."),
            categories=[month_label(line.month, short=True) for line in report.months],
            series=[
                Series(category_label(key), [line.hours(key) for line in report.months])
                for key in report.month_categories
            ],
            value_label=_("Hours"),
            category_label=_("Month"),
            stacked=True,
            format_value=chart_hours,
        ),
    }


def _hours(value: float) -> float:
    return round(value, 2)


def _lines_csv(lines: list[Line], total: Line, heading: str, label: Callable) -> str:
    header = [
        heading,
        _("People trained"),
        *(_("%(kind)s (hours)", kind=kind_label(kind)) for kind in KINDS),
        _("Total hours"),
    ]
    rows = [
        [
            label(line.key),
            line.people,
            *(_hours(line.hours(k)) for k in KINDS),
            _hours(line.hours()),
        ]
        for line in [*lines, total]
    ]
    rows[-1][0] = _("Total")
    return to_csv(header, rows)


def _months_csv(report: Report) -> str:
    keys = report.month_categories
    header = [
        _("Month"),
        *(_("%(category)s (hours)", category=category_label(key)) for key in keys),
        _("Total hours"),
        _("People trained"),
    ]
    rows = [
        [
            line.month.strftime("%Y-%m"),
            *(_hours(line.hours(key)) for key in keys),
            _hours(line.total_hours),
            line.people,
        ]
        for line in report.months
    ]
    total = report.total
    by_category = {line.key: line for line in report.categories}
    rows.append(
        [
            _("Whole period"),
            *(_hours(by_category[key].hours()) if key in by_category else 0.0 for key in keys),
            _hours(total.hours()),
            total.people,
        ]
    )
    return to_csv(header, rows)


def report_csv(report: Report, table: str) -> str:
    """The CSV document of one of ``TABLES``."""
    if table == "category":
        return _lines_csv(report.categories, report.total, _("Learner category"), category_label)
    if table == "sector":
        return _lines_csv(report.sectors, report.total, _("Sector"), sector_label)
    return _months_csv(report)


def template_helpers() -> dict:
    """What ``dashboard/report.html`` needs to put the report into words."""
    return {
        "hours": hours_text,
        "kinds": KINDS,
        "kind_label": kind_label,
        "category_label": category_label,
        "sector_label": sector_label,
        "month_label": month_label,
        "attempt_cap_hours": int(ATTEMPT_CAP.total_seconds() // 3600),
    }
