"""The dashboards' tables as CSV documents (see ``csvexport`` for the file format)."""

from __future__ import annotations

from flask_babel import gettext as _

from lms.auth.labels import CATEGORY_LABELS, SECTOR_LABELS
from lms.dashboard.csvexport import to_csv
from lms.dashboard.expiring import ExpiringQualification
from lms.dashboard.labels import STATUS_LABELS
from lms.dashboard.matrix import Matrix
from lms.practicals.wording import localized


def _percent(score: float | None) -> int | None:
    return None if score is None else round(score * 100)


def _learner_fields(
    learner, categories: dict[str, str] | None = None, sectors: dict[str, str] | None = None
) -> list:
    """A learner's columns; ``categories``/``sectors``: the labels translated once, for
    callers writing many rows."""
    categories = categories if categories is not None else _words(CATEGORY_LABELS)
    sectors = sectors if sectors is not None else _words(SECTOR_LABELS)
    return [
        learner.display_name,
        learner.email,
        learner.organisation.name,
        categories.get(learner.learner_category, ""),
        sectors.get(learner.sector, ""),
    ]


def _words(labels: dict) -> dict[str, str]:
    """``labels`` translated once (a lazy label is translated anew each time it is read)."""
    return {key: str(value) for key, value in labels.items()}


def _learner_header() -> list[str]:
    return [_("Learner"), _("E-mail"), _("Organisation"), _("Category"), _("Sector")]


def matrix_csv(matrix: Matrix) -> str:
    """Every row of ``matrix``: per module its status, best score (%) and the end of the
    current qualification; per practical type its status."""
    header = _learner_header()
    for column in matrix.columns:
        title = localized(column.title)
        header.append(_("%(title)s: status", title=title))
        if column.kind == "module":
            header.append(_("%(title)s: best score (%%)", title=title))
            header.append(_("%(title)s: valid until", title=title))
    statuses, categories, sectors = (
        _words(STATUS_LABELS),
        _words(CATEGORY_LABELS),
        _words(SECTOR_LABELS),
    )
    blank = {
        "module": [statuses["not_started"], None, None],
        "practical": [statuses["not_started"]],
    }
    rows = []
    for row in matrix.rows:
        fields = _learner_fields(row.learner, categories, sectors)
        for column in matrix.columns:
            cell = row.cells[column.key]
            if cell is matrix.not_started:
                fields += blank[column.kind]
                continue
            fields.append(statuses[cell.status])
            if column.kind == "module":
                fields.append(_percent(cell.best_score))
                fields.append(cell.valid_until.date() if cell.valid_until else None)
        rows.append(fields)
    return to_csv(header, rows)


def expiring_csv(items: list[ExpiringQualification]) -> str:
    """One line per qualification ending soon."""
    header = [*_learner_header(), _("Module"), _("Valid until"), _("Days left")]
    categories, sectors = _words(CATEGORY_LABELS), _words(SECTOR_LABELS)
    rows = [
        [
            *_learner_fields(item.learner, categories, sectors),
            localized(item.module_title),
            item.valid_until.date(),
            item.days_left,
        ]
        for item in items
    ]
    return to_csv(header, rows)
