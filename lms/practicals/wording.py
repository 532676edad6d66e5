"""Prerequisites in plain words: what a rule asks, and what a learner still misses.

Texts are translated (Flask-Babel); module and practical titles are looked up through
``Names`` so the words name things as the learner sees them, with a link to each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _

from lms.auth.labels import CATEGORY_LABELS, ROLE_LABELS
from lms.extensions import db
from lms.practicals.models import PracticalType
from lms.practicals.rules import AllOf, AnyOf, Condition, MissingCondition


def localized(value: dict[str, str] | None) -> str:
    if not value:
        return ""
    language = str(get_locale() or "en")
    return value.get(language) or value.get("en") or next(iter(value.values()), "")


@dataclass
class Names:
    """Titles of modules and practical types, in the page's language."""

    modules: dict[str, str] = field(default_factory=dict)
    practicals: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Names:
        from lms.catalog.models import Module, ModuleVersion

        rows = db.session.execute(
            sa.select(Module.id, ModuleVersion.title).join(
                ModuleVersion, Module.current_version_id == ModuleVersion.id
            )
        )
        practicals = db.session.execute(sa.select(PracticalType.id, PracticalType.title))
        return cls(
            modules={key: localized(title) for key, title in rows},
            practicals={key: localized(title) for key, title in practicals},
        )

    def module(self, module_id: str) -> str:
        return self.modules.get(module_id, module_id)

    def practical(self, type_id: str) -> str:
        return self.practicals.get(type_id, type_id)


def link(item: Condition | MissingCondition) -> str | None:
    """The page where the learner can satisfy the condition."""
    target = item.link
    if target is None:
        return None
    kind, target_id = target
    if kind == "module":
        return url_for("catalog.module", module_id=target_id)
    return url_for("practicals.practical_type", type_id=target_id)


def _percent(score: float) -> str:
    return f"{round(score * 100)} %"


def requirement(condition: Condition, names: Names) -> str:
    """What the condition asks, as an instruction: "Pass the module ... with at least 80 %"."""
    if condition.kind in ("role", "learner_category"):
        labels = ROLE_LABELS if condition.kind == "role" else CATEGORY_LABELS
        allowed = ", ".join(str(labels.get(value, value)) for value in condition.values)
        if condition.kind == "role":
            return _("Only for these roles: %(roles)s.", roles=allowed)
        return _("Only for these learners: %(categories)s.", categories=allowed)
    if condition.kind == "practical_signed_off":
        text = _(
            "Be signed off in the practical “%(title)s”", title=names.practical(condition.practical)
        )
    elif condition.kind == "qualification_valid":
        text = _(
            "Hold a valid pass of the module “%(title)s” on the session date",
            title=names.module(condition.module),
        )
    else:
        text = _("Pass the module “%(title)s”", title=names.module(condition.module))
    if condition.min_score is not None:
        text += " " + _("with at least %(score)s", score=_percent(condition.min_score))
    if condition.within_months is not None:
        text += " " + _(
            "within the %(months)d months before the session", months=condition.within_months
        )
    return text + "."


def missing(item: MissingCondition, names: Names) -> str:
    """What the learner misses, with what they have when it helps."""
    if item.condition is None:
        return _("One of the following:")
    text = requirement(item.condition, names)
    detail = item.detail
    if item.reason == "score_too_low":
        text += " " + _("Your best score: %(score)s.", score=_percent(detail["best_score"]))
    elif item.reason == "too_old":
        when = detail.get("issued_at") or detail.get("signed_at")
        text += " " + _("Yours dates from %(date)s.", date=format_date(when))
    elif item.reason == "expires_before":
        text += " " + _(
            "Yours is valid until %(date)s, before the session.",
            date=format_date(detail["valid_until"]),
        )
    return text


def group_kind(rule) -> str | None:
    """``all_of`` or ``any_of`` for a group of a rule, None for a condition."""
    if isinstance(rule, AllOf):
        return "all_of"
    if isinstance(rule, AnyOf):
        return "any_of"
    return None
