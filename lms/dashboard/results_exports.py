"""The results pages' words, chart and CSV files (see ``results`` for the figures)."""

from __future__ import annotations

from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.dashboard.charts import BarChart, Series
from lms.dashboard.csvexport import to_csv
from lms.dashboard.responses_summary import AnswerCount
from lms.dashboard.results import ItemRow, ModuleResults, ModuleSummary
from lms.practicals.wording import localized

TYPE_LABELS = {
    "single_choice": _l("Single choice"),
    "multiple_response": _l("Multiple response"),
    "true_false": _l("True or false"),
    "numeric": _l("Number"),
    "matching": _l("Matching"),
    "ordering": _l("Ordering"),
    "short_text": _l("Short text"),
}
FLAG_LABELS = {
    "negative_discrimination": _l("Negative discrimination"),
    "too_easy": _l("Very easy"),
    "too_hard": _l("Very hard"),
}
FLAG_ADVICE = {
    "negative_discrimination": _l(
        "Learners who did well on the rest of the quiz got this question wrong more often "
        "than those who did badly: check the answer key and look for a misleading wording."
    ),
    "too_easy": _l(
        "Nearly everybody got it right (facility above 0.95): the question hardly tells "
        "learners apart. Keep it only if it checks something everybody must know."
    ),
    "too_hard": _l(
        "Few got it right (facility below 0.20): check the answer key, the wording and "
        "whether the lessons teach it."
    ),
}


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _percent(value: float | None) -> int | None:
    return None if value is None else round(value * 100)


def _minutes(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def modules_csv(summaries: list[ModuleSummary]) -> str:
    """One line per module, in the order shown."""
    header = [
        _("Module id"),
        _("Module"),
        _("Retired"),
        _("Attempts"),
        _("Learners"),
        _("Pass rate (%)"),
        _("Mean score (%)"),
        _("Mean time (minutes)"),
        _("First attempts at the current version"),
        _("Flagged questions"),
    ]
    rows = [
        [
            s.module_id,
            localized(s.title),
            s.retired,
            s.attempts,
            s.learners,
            _percent(s.pass_rate),
            _percent(s.mean_score),
            _minutes(s.mean_seconds),
            s.first_attempts,
            s.flagged,
        ]
        for s in summaries
    ]
    return to_csv(header, rows)


def summary_csv(found: ModuleResults) -> str:
    """The headline, the test statistics and the score distribution of one version."""
    h, t = found.headline, found.test
    everything, firsts, scores = _("All attempts"), _("First attempts"), _("Score distribution")
    if t.reliability_kind == "alpha":
        reliability = _("Reliability (Cronbach's alpha)")
    else:
        reliability = _("Reliability (KR-20)")
    rows = [
        [everything, _("Version"), found.version.label],
        [everything, _("Attempts"), h.attempts],
        [everything, _("Learners"), h.learners],
        [everything, _("Pass rate (%)"), _percent(h.pass_rate)],
        [everything, _("Learners who passed"), h.learners_passed],
        [everything, _("Mean score (%)"), _percent(h.mean_score)],
        [everything, _("Mean time (minutes)"), _minutes(h.mean_seconds)],
        [firsts, _("Attempts"), t.attempts],
        [firsts, _("Mean score (%)"), _percent(t.mean)],
        [firsts, _("Median score (%)"), _percent(t.median)],
        [firsts, _("Standard deviation (points)"), _round(_scaled(t.sd), 1)],
        [firsts, reliability, _round(t.reliability)],
        [firsts, _("Standard error of measurement (points)"), _round(_scaled(t.sem), 1)],
    ]
    rows += [
        [scores, band, count] for band, count in zip(band_labels(), t.distribution, strict=True)
    ]
    return to_csv([_("Part"), _("Figure"), _("Value")], rows)


def _scaled(share: float | None) -> float | None:
    return None if share is None else share * 100


def answer_text(answer: AnswerCount) -> str:
    """One answer line in words: text, count, share, and whether it is right."""
    text = _("%(answer)s: %(count)d", answer=answer.text, count=answer.count)
    if answer.share is not None:
        text += f" ({_percent(answer.share)} %)"
    if answer.correct is True:
        text += " " + _("(correct)")
    return text


def items_csv(found: ModuleResults) -> str:
    """One line per question of the version's bank, in the bank's order."""
    header = [
        _("Number"),
        _("Question id"),
        _("Topic"),
        _("Type"),
        _("Question"),
        _("First attempts with the question"),
        _("Facility"),
        _("Discrimination (item-rest correlation)"),
        _("Upper group: right (%)"),
        _("Lower group: right (%)"),
        _("Upper-lower index"),
        _("Not answered"),
        _("Answers"),
        _("Flags"),
    ]
    return to_csv(header, [_item_fields(item) for item in found.items])


def _item_fields(item: ItemRow) -> list:
    figures, question = item.figures, item.question
    return [
        item.number,
        question["id"],
        question.get("topic"),
        str(TYPE_LABELS.get(question["type"], question["type"])),
        localized(question.get("prompt")),
        figures.drawn,
        _round(figures.facility),
        _round(figures.discrimination),
        _percent(figures.upper),
        _percent(figures.lower),
        _round(figures.index),
        item.unanswered,
        "; ".join(answer_text(answer) for answer in item.answers),
        "; ".join(str(FLAG_LABELS[flag]) for flag in figures.flags),
    ]


def decimal(value: float | None, places: int = 2) -> str:
    """``value`` with ``places`` decimals in the page's language (0.52, 0,52); – for None."""
    if value is None:
        return "–"
    return format_decimal(value, format="0." + "0" * places)


def band_labels(bins: int = 10) -> list[str]:
    """``0–9 %``, ``10–19 %`` ... ``90–100 %``."""
    step = 100 // bins
    labels = [f"{i * step}–{(i + 1) * step - 1} %" for i in range(bins)]
    labels[-1] = f"{(bins - 1) * step}–100 %"
    return labels


def distribution_chart(found: ModuleResults) -> BarChart:
    """The first attempts' scores in bands of 10 percentage points."""
    pass_mark = found.version.quiz_settings.get("pass_mark")
    description = _(
        "How many learners' first attempts scored in each band of ten percentage points."
    )
    if pass_mark is not None:
        description += " " + _("The pass mark is %(mark)d %%.", mark=round(pass_mark * 100))
    return BarChart(
        key="score-distribution",
        title=_("Scores of the first attempts"),
        description=description,
        categories=band_labels(),
        series=[Series(_("First attempts"), found.test.distribution)],
        value_label=_("Learners"),
        category_label=_("Score"),
    )


def reliability_percent(value: float) -> int:
    """The share of score differences that the reliability attributes to real ones."""
    return round(max(0.0, min(value, 1.0)) * 100)
