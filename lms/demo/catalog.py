"""Synthetic modules: versions, lessons and question banks of every question type.

Each question carries, besides its normalised form (``lms.catalog.questions``), a
difficulty and a discrimination that only the simulation reads (``Item``): how likely a
learner of a given ability answers it right. A few items are flawed on purpose (they
discriminate backwards), as real banks have, so that item statistics find something.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lms.catalog.models import Lesson, Module, ModuleVersion
from lms.catalog.questions import INTERACTION_TYPES
from lms.demo import vocabulary
from lms.demo.writer import Writer

QUESTION_TYPES = tuple(INTERACTION_TYPES)
#: How often each question type appears in a bank.
TYPE_WEIGHTS = (34, 14, 16, 9, 9, 8, 10)
SOURCES = (
    {
        "id": "eudralex-vol4",
        "title": "EudraLex Volume 4: EU Guidelines for Good Manufacturing Practice",
        "url": "https://health.ec.europa.eu/medicinal-products/eudralex/eudralex-volume-4_en",
    },
    {
        "id": "echa-clp",
        "title": "ECHA: Understanding the CLP Regulation",
        "url": "https://echa.europa.eu/regulations/clp/understanding-clp",
    },
)
LETTERS = "abcdefgh"
UNITS = (
    ("°C", 121.0, 1.0),
    ("bar", 2.5, 0.1),
    ("mA", 12.0, 0.2),
    ("min", 15.0, 0.0),
    ("%", 70.0, 5.0),
)


@dataclass(frozen=True)
class Item:
    """A question as the simulation sees it: the normalised question, its difficulty
    (logit scale) and its discrimination (negative: a flawed item)."""

    question: dict[str, Any]
    difficulty: float
    discrimination: float


@dataclass
class Version:
    id: int
    loaded_at: datetime
    lessons: list[tuple[str, int]]
    items: list[Item]

    @property
    def slugs(self) -> frozenset[str]:
        return frozenset(slug for slug, _minutes in self.lessons)

    @property
    def bank(self) -> list[dict[str, Any]]:
        return [item.question for item in self.items]


@dataclass
class SyntheticModule:
    id: str
    title: dict[str, str]
    sector: str
    family: str
    variant: str
    validity_months: int
    settings: dict[str, Any]
    prerequisites: list[str]
    #: Relative chance of being in a learner's programme.
    popularity: float
    #: Oldest first; the last is the current version.
    versions: list[Version] = field(default_factory=list)

    @property
    def current(self) -> Version:
        return self.versions[-1]

    def version_at(self, moment: datetime) -> Version:
        """The version served at ``moment`` (the first before it was loaded)."""
        served = self.versions[0]
        for version in self.versions:
            if version.loaded_at <= moment:
                served = version
        return served


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("/", "-")).strip("-")[:60]


def plan_modules(
    rng: random.Random, count: int, start: datetime, now: datetime, taken: set[str]
) -> list[SyntheticModule]:
    """``count`` modules (introductions of every topic first, then the advanced and
    refresher variants), ids clear of ``taken``. No version ids yet."""
    picks: list[tuple[tuple, tuple]] = []
    for variant in vocabulary.VARIANTS:
        topics = list(vocabulary.TOPICS)
        if variant[0]:
            rng.shuffle(topics)
        picks += [(topic, variant) for topic in topics]
    series = 2
    while len(picks) < count:
        picks += [
            (t, (f"part-{series}", f" (part {series})", f" (partie {series})"))
            for t in vocabulary.TOPICS
        ]
        series += 1
    modules: list[SyntheticModule] = []
    intro_ids: dict[str, str] = {}
    for rank, ((en, fr, sector, family), (suffix, en_more, fr_more)) in enumerate(picks[:count]):
        base = slugify(en) + (f"-{suffix}" if suffix else "")
        module_id, number = base, 2
        while module_id in taken:
            module_id, number = f"{base}-{number}", number + 1
        taken.add(module_id)
        if not suffix:
            intro_ids[en] = module_id
        prerequisites = [intro_ids[en]] if suffix and en in intro_ids else []
        if not suffix and family == "aseptic" and intro_ids.get("GMP fundamentals"):
            prerequisites = [intro_ids["GMP fundamentals"]]
        modules.append(
            SyntheticModule(
                id=module_id,
                title={"en": en + en_more, "fr": fr + fr_more},
                sector=sector,
                family=family,
                variant=suffix or "introduction",
                validity_months=rng.choice((6, 12, 12, 12, 24, 24, 36)),
                settings=_quiz_settings(rng),
                prerequisites=prerequisites,
                popularity=(3.0 if rank < 3 else 1.0)
                / (1 + rank) ** 0.8
                * (0.5 if suffix else 1.0),
            )
        )
    for module in modules:
        _plan_versions(rng, module, start, now)
    return modules


def _quiz_settings(rng: random.Random) -> dict[str, Any]:
    return {
        "balance_topics": rng.random() < 0.5,
        "shuffle_options": True,
        "max_attempts": rng.choice((None, None, 3, 3, 5)),
        "cooldown_minutes": rng.choice((0, 0, 30, 60, 1440)),
        "time_limit_minutes": rng.choice((None, 20, 30, 45)),
        "review": rng.choice(("full", "full", "wrong", "score")),
        "pass_mark": rng.choice((0.7, 0.75, 0.8, 0.8)),
        "questions_per_attempt": rng.choice((8, 10, 10, 12, 15)),
    }


def _plan_versions(rng: random.Random, module: SyntheticModule, start: datetime, now: datetime):
    lesson_count = rng.randint(3, 8)
    titles = rng.sample(vocabulary.LESSON_TITLES, lesson_count)
    lessons = [(slug, rng.choice((8, 10, 12, 15, 20, 25))) for slug, _en, _fr in titles]
    items = [_item(rng, module, n) for n in range(1, rng.randint(10, 30) + 1)]
    first = start - timedelta(days=rng.randint(20, 90))
    module.versions.append(Version(0, first, lessons, items))
    if rng.random() < 0.12:
        changed = start + (now - start) * rng.uniform(0.3, 0.8)
        unused = [t for t in vocabulary.LESSON_TITLES if t[0] not in {s for s, _m in lessons}]
        extra = [(unused[0][0], 10)] if unused else []
        more = [_item(rng, module, len(items) + n) for n in (1, 2)]
        module.versions.append(Version(0, changed, lessons + extra, items + more))
    shown = min(module.settings["questions_per_attempt"], len(items))
    module.settings["questions_per_attempt"] = shown


def _item(rng: random.Random, module: SyntheticModule, number: int) -> Item:
    kind = rng.choices(QUESTION_TYPES, weights=TYPE_WEIGHTS)[0]
    topic = rng.choice(vocabulary.QUESTION_TOPICS)
    en, fr = module.title["en"], module.title["fr"]
    question: dict[str, Any] = {
        "id": f"q{number:02d}-{topic}",
        "type": kind,
        "topic": topic,
        "prompt": {
            "en": f"{en}, question {number} ({topic}): which answer is right?",
            "fr": f"{fr}, question {number} ({topic}) : quelle est la bonne réponse ?",
        },
        "feedback": {
            "en": f"See the lesson on {topic} of this module (demonstration content).",
            "fr": f"Voir la leçon « {topic} » de ce module (contenu de démonstration).",
        },
        "source": {"ref": SOURCES[1 if module.sector == "chemistry" else 0]["id"], "where": None},
    }
    question.update(_answer_part(rng, kind))
    flawed = rng.random() < 0.04
    return Item(
        question,
        difficulty=rng.gauss(-1.5, 0.9),
        discrimination=rng.uniform(-0.6, -0.1) if flawed else rng.uniform(0.5, 2.2),
    )


def _entries(count: int, en: str, fr: str) -> list[dict[str, Any]]:
    return [
        {
            "id": LETTERS[i],
            "text": {"en": f"{en} {LETTERS[i].upper()}", "fr": f"{fr} {LETTERS[i].upper()}"},
        }
        for i in range(count)
    ]


def _answer_part(rng: random.Random, kind: str) -> dict[str, Any]:
    if kind == "single_choice":
        options = _entries(rng.choice((3, 4, 4, 5)), "Answer", "Réponse")
        return {"options": options, "answer": rng.choice(options)["id"]}
    if kind == "multiple_response":
        options = _entries(rng.choice((4, 5, 6)), "Statement", "Affirmation")
        right = sorted(o["id"] for o in rng.sample(options, rng.randint(2, len(options) - 1)))
        return {"options": options, "answer": right, "partial_credit": rng.random() < 0.5}
    if kind == "true_false":
        return {"answer": rng.random() < 0.5}
    if kind == "numeric":
        unit, answer, tolerance = rng.choice(UNITS)
        return {"answer": answer, "tolerance": tolerance, "unit": {"en": unit}}
    if kind == "matching":
        count = rng.choice((3, 4))
        sources = _entries(count, "Step", "Étape")
        targets = [
            {"id": f"t{i}", "text": {"en": f"Purpose {i}", "fr": f"But {i}"}}
            for i in range(1, count + 2)
        ]
        chosen = rng.sample([t["id"] for t in targets], count)
        answer = {s["id"]: t for s, t in zip(sources, chosen, strict=True)}
        return {"sources": sources, "targets": targets, "answer": answer, "partial_credit": True}
    if kind == "ordering":
        return {"items": _entries(rng.choice((3, 4, 5)), "Action", "Action")}
    word = rng.choice(("sterile", "validation", "deviation", "calibration", "isolator"))
    return {"accepted": [word, word.upper()], "accent_sensitive": False}


def _content_hash(module: SyntheticModule, version: Version) -> str:
    content = {"id": module.id, "lessons": version.lessons, "bank": version.bank}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def write_modules(writer: Writer, modules: list[SyntheticModule]) -> None:
    """Insert the modules, their versions and lessons; fills in the version ids."""
    versions = [v for m in modules for v in m.versions]
    for version, version_id in zip(
        versions, writer.ids(ModuleVersion.__table__, len(versions)), strict=True
    ):
        version.id = version_id
    writer.add(
        Module.__table__,
        [
            {
                "id": m.id,
                "status": "enabled",
                "current_version_id": None,
                "created_at": m.versions[0].loaded_at,
            }
            for m in modules
        ],
    )
    writer.add(
        ModuleVersion.__table__,
        [_version_row(m, v, n) for m in modules for n, v in enumerate(m.versions, 1)],
    )
    lessons = []
    for module in modules:
        for version in module.versions:
            lessons += [
                _lesson_row(version, position, slug, minutes)
                for position, (slug, minutes) in enumerate(version.lessons)
            ]
    lesson_ids = writer.ids(Lesson.__table__, len(lessons))
    for row, lesson_id in zip(lessons, lesson_ids, strict=True):
        row["id"] = lesson_id
    writer.add(Lesson.__table__, lessons)


def _version_row(module: SyntheticModule, version: Version, number: int) -> dict[str, Any]:
    minutes = sum(m for _s, m in version.lessons) + module.settings["questions_per_attempt"] * 2
    return {
        "id": version.id,
        "module_id": module.id,
        "content_hash": _content_hash(module, version),
        "label": f"{number}.0",
        "title": module.title,
        "summary": {
            "en": f"{module.title['en']}: a demonstration module made by lms demo-data.",
            "fr": f"{module.title['fr']} : un module de démonstration créé par lms demo-data.",
        },
        "sector": module.sector,
        "estimated_minutes": minutes,
        "validity_months": module.validity_months,
        "prerequisites": module.prerequisites,
        "quiz_settings": module.settings,
        "questions": version.bank,
        "sources": list(SOURCES),
        "loaded_at": version.loaded_at,
    }


def _lesson_row(version: Version, position: int, slug: str, minutes: int) -> dict[str, Any]:
    en, fr = next((e, f) for s, e, f in vocabulary.LESSON_TITLES if s == slug)
    return {
        "version_id": version.id,
        "position": position,
        "slug": slug,
        "title": {"en": en, "fr": fr},
        "minutes": minutes,
        "html": f'<h2 id="{slug}">{en}</h2>\n<p>Demonstration lesson made by lms demo-data.</p>',
        "toc": [{"level": 2, "id": slug, "text": en}],
    }


def current_version_updates(modules: list[SyntheticModule]) -> list[dict[str, Any]]:
    """``{"module_id", "version_id"}`` of each module's current version (set after the
    versions are written: the module row is written first)."""
    return [{"module_id": m.id, "version_id": m.current.id} for m in modules]
