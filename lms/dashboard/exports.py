"""The dashboards' tables as CSV documents (see ``csvexport`` for the file format)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask_babel import gettext as _

from lms.auth.labels import CATEGORY_LABELS, SECTOR_LABELS
from lms.dashboard.csvexport import cell_text, to_csv
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


#: Rows of the matrix written per piece of the streamed export.
ROWS_PER_PIECE = 200


def matrix_csv(matrix: Matrix) -> Iterator[str]:
    """Every row of ``matrix`` as CSV text, in pieces (the BOM and header first, then
    ``ROWS_PER_PIECE`` rows at a time), for a streamed response: per module its status,
    best score (%) and the end of the current qualification; per practical type its
    status. The same document as ``csvexport.to_csv`` would write.

    The words are translated here, in the request; the pieces are written as the
    response is sent, from ``matrix.rows`` alone (no database, no request). Values the
    application writes (status words, numbers, dates) become cell text once or
    directly; only the learners' own fields go through ``cell_text``."""
    header = _learner_header()
    for column in matrix.columns:
        title = localized(column.title)
        header.append(_("%(title)s: status", title=title))
        if column.kind == "module":
            header.append(_("%(title)s: best score (%%)", title=title))
            header.append(_("%(title)s: valid until", title=title))
    statuses = {key: cell_text(value) for key, value in _words(STATUS_LABELS).items()}
    blank = {
        "module": [statuses["not_started"], "", ""],
        "practical": [statuses["not_started"]],
    }
    columns = [(c.key, c.kind == "module", blank[c.kind]) for c in matrix.columns]
    words = (statuses, _words(CATEGORY_LABELS), _words(SECTOR_LABELS))
    return _matrix_pieces(to_csv(header, ()), matrix, columns, words)


def _matrix_pieces(head: str, matrix: Matrix, columns: list, words: tuple) -> Iterator[str]:
    yield head
    statuses, categories, sectors = words
    not_started = matrix.not_started
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    for number, row in enumerate(matrix.rows, start=1):
        fields = [cell_text(value) for value in _learner_fields(row.learner, categories, sectors)]
        cells = row.cells
        for key, is_module, empty in columns:
            cell = cells[key]
            if cell is not_started:
                fields += empty
                continue
            fields.append(statuses[cell.status])
            if is_module:
                fields.append("" if cell.best_score is None else str(_percent(cell.best_score)))
                fields.append(cell.valid_until.date().isoformat() if cell.valid_until else "")
        writer.writerow(fields)
        if number % ROWS_PER_PIECE == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


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
