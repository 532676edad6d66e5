"""Synthetic organisations, staff, learners and cohorts."""

from __future__ import annotations

import random
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace

import sqlalchemy as sa

from lms.auth.models import Organisation, User
from lms.dashboard.models import Cohort, CohortMember
from lms.demo import vocabulary
from lms.demo.writer import Writer
from lms.extensions import db

#: Learners' ability (logit scale) shifts by category.
ABILITY_SHIFT = {"worker": 0.0, "job_seeker": -0.35, "student": -0.15, "teacher": 0.6}


@dataclass
class Org:
    id: int
    name: str
    slug: str
    kind: str
    sector: str | None
    actor_mode: str = "account"
    #: Not created by this run (an existing centre, in ``--append``).
    existing: bool = False
    trainers: list[Person] = field(default_factory=list)
    admins: list[Person] = field(default_factory=list)
    learners: list[Person] = field(default_factory=list)


@dataclass
class Person:
    """A user as the simulation and the statement builder read it (``organisation``
    carries ``actor_mode``, as ``User.organisation`` does)."""

    id: int
    public_id: str
    email: str
    display_name: str
    role: str
    org: Org
    category: str | None = None
    sector: str | None = None
    language: str | None = None
    ability: float = 0.0
    #: When the learner started training (account created a few days before).
    start: datetime | None = None

    @property
    def organisation(self) -> SimpleNamespace:
        return SimpleNamespace(actor_mode=self.org.actor_mode)

    @property
    def organisation_id(self) -> int:
        return self.org.id


def new_uuid(rng: random.Random) -> str:
    """A random (version 4) UUID drawn from ``rng``, as ``uuid.UUID(version=4)`` makes it."""
    value = rng.getrandbits(128) & ~(0xC000 << 48) | 0x8000 << 48
    text = f"{value & ~(0xF000 << 64) | 4 << 76:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


def _shares(total: int, weights: list[float]) -> list[int]:
    """``total`` split by ``weights`` (largest remainders), at least 1 each when possible."""
    raw = [total * w / sum(weights) for w in weights]
    counts = [int(r) for r in raw]
    for index in sorted(range(len(raw)), key=lambda i: raw[i] - counts[i], reverse=True):
        if sum(counts) >= total:
            break
        counts[index] += 1
    for index, count in enumerate(counts):
        if count == 0 and total >= len(counts):
            donor = counts.index(max(counts))
            counts[donor] -= 1
            counts[index] = 1
    return counts


def plan_organisations(writer: Writer) -> list[Org]:
    """The centre (an existing one is reused), companies and schools; slugs and names
    clear of existing organisations."""
    existing = db.session.execute(sa.select(Organisation.slug, Organisation.name)).all()
    slugs, names = {row.slug for row in existing}, {row.name for row in existing}
    centre = db.session.scalar(
        sa.select(Organisation).where(Organisation.is_centre.is_(True)).order_by(Organisation.id)
    )
    orgs = []
    for name, slug, kind, _share, _categories, sector in vocabulary.ORGANISATIONS:
        if kind == "centre" and centre is not None:
            orgs.append(
                Org(centre.id, centre.name, centre.slug, kind, None, centre.actor_mode, True)
            )
            continue
        base_slug, base_name, number = slug, name, 2
        while slug in slugs or name in names:
            slug, name, number = f"{base_slug}-{number}", f"{base_name} {number}", number + 1
        slugs.add(slug)
        names.add(name)
        orgs.append(
            Org(0, name, slug, kind, sector, "mbox" if slug.startswith("basel") else "account")
        )
    new = [org for org in orgs if not org.existing]
    for org, org_id in zip(new, writer.ids(Organisation.__table__, len(new)), strict=True):
        org.id = org_id
    return orgs


def write_organisations(writer: Writer, orgs: list[Org], created: datetime) -> None:
    writer.add(
        Organisation.__table__,
        [
            {
                "id": org.id,
                "name": org.name,
                "slug": org.slug,
                "actor_mode": org.actor_mode,
                "self_registration": org.kind == "centre",
                "is_centre": org.kind == "centre",
                "created_at": created,
            }
            for org in orgs
            if not org.existing
        ],
    )


def plan_people(
    rng: random.Random, orgs: list[Org], learners: int, start: datetime, now: datetime, tag: str
) -> None:
    """Staff and ``learners`` learners of every organisation (ids taken later)."""
    shares = _shares(learners, [spec[3] for spec in vocabulary.ORGANISATIONS])
    span = (now - start).total_seconds()
    used: set[str] = set()
    for org, spec, count in zip(orgs, vocabulary.ORGANISATIONS, shares, strict=True):
        categories = spec[4]
        trainers = max(1, round(count / (120 if org.kind == "centre" else 250)))
        for role, number in (("trainer", trainers), ("admin", 2 if org.kind == "centre" else 1)):
            for _ in range(number):
                person = _person(rng, org, role, used, tag)
                (org.trainers if role == "trainer" else org.admins).append(person)
        for _ in range(count):
            category = rng.choices(list(categories), weights=list(categories.values()))[0]
            person = _person(rng, org, "learner", used, tag)
            person.category = category
            person.sector = org.sector or rng.choice(("biopharma", "chemistry", "biopharma"))
            person.language = rng.choice((None, None, None, "fr", "en"))
            person.ability = rng.gauss(ABILITY_SHIFT[category], 1.0)
            person.start = start + timedelta(seconds=span * rng.random() ** 1.1)
            org.learners.append(person)


def _person(rng: random.Random, org: Org, role: str, used: set[str], tag: str) -> Person:
    first, last = rng.choice(vocabulary.FIRST_NAMES), rng.choice(vocabulary.LAST_NAMES)
    stem = f"{_ascii(first)}.{_ascii(last)}"
    email, number = f"{stem}{tag}@{org.slug}.example.org", 2
    while email in used:
        email, number = f"{stem}{number}{tag}@{org.slug}.example.org", number + 1
    used.add(email)
    return Person(0, new_uuid(rng), email, f"{first} {last}", role, org)


def everyone(orgs: list[Org]) -> list[Person]:
    return [p for org in orgs for p in (*org.admins, *org.trainers, *org.learners)]


def write_people(writer: Writer, orgs: list[Org], password_hash: str, now: datetime) -> None:
    """Insert every person (ids filled in here)."""
    people = everyone(orgs)
    for person, user_id in zip(people, writer.ids(User.__table__, len(people)), strict=True):
        person.id = user_id
    rows = []
    for person in people:
        created = (person.start or now - timedelta(days=400)) - timedelta(days=3)
        rows.append(
            {
                "id": person.id,
                "public_id": person.public_id,
                "email": person.email,
                "display_name": person.display_name,
                "password_hash": password_hash,
                "role": person.role,
                "organisation_id": person.org.id,
                "learner_category": person.category,
                "sector": person.sector,
                "language": person.language,
                "active": True,
                "session_version": 0,
                "created_at": created,
                "last_login_at": None,
            }
        )
    writer.add(User.__table__, rows)


def _cohort_key(person: Person) -> tuple[str, int, int]:
    """(category, year, period) of the intake the learner belongs to."""
    start = person.start
    if person.org.kind == "company":
        return (person.category, start.year, (start.month - 1) // 3 + 1)
    if person.org.kind == "school" or person.category == "teacher":
        return (person.category, start.year if start.month >= 9 else start.year - 1, 0)
    return (person.category, start.year, start.month)


def _cohort_name(org: Org, key: tuple[str, int, int], group: int, groups: int) -> str:
    category, year, period = key
    if org.kind == "company":
        name = f"Operators Q{period} {year}"
    elif category == "teacher":
        name = f"Teachers {year}–{year + 1}"
    elif org.kind == "school":
        name = f"Class of {year + 2}"
    elif category == "job_seeker":
        name = f"Job-seekers intake {vocabulary.MONTHS[period - 1]} {year}"
    else:
        name = f"Individual learners {vocabulary.MONTHS[period - 1]} {year}"
    return f"{name} · group {'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[group % 26]}" if groups > 1 else name


def write_cohorts(
    rng: random.Random, writer: Writer, orgs: list[Org], now: datetime, tag: str
) -> int:
    """Intakes of each organisation, split into groups of a class's size; a night-shift
    cohort in each company; intakes over long ago archived. Returns the count."""
    cohorts, members = [], []
    for org in orgs:
        by_key: dict[tuple, list[Person]] = defaultdict(list)
        for person in org.learners:
            by_key[_cohort_key(person)].append(person)
        size = 60 if org.kind == "company" else 24
        planned = []
        for key in sorted(by_key):
            people = by_key[key]
            groups = max(1, -(-len(people) // size))
            for group in range(groups):
                planned.append((_cohort_name(org, key, group, groups), people[group::groups]))
        if org.kind == "company" and len(org.learners) >= 20:
            planned.append(("Night shift", rng.sample(org.learners, len(org.learners) // 10)))
        for name, people in planned:
            first = min(p.start for p in people)
            last = max(p.start for p in people)
            cohorts.append(
                {
                    "public_id": new_uuid(rng),
                    "organisation_id": org.id,
                    "name": name + tag,
                    "created_by_id": rng.choice(org.trainers).id,
                    "created_at": first - timedelta(days=2),
                    "archived_at": last + timedelta(days=240)
                    if last + timedelta(days=240) < now
                    else None,
                    "people": people,
                }
            )
    ids = writer.ids(Cohort.__table__, len(cohorts))
    for cohort, cohort_id in zip(cohorts, ids, strict=True):
        cohort["id"] = cohort_id
        trainer = cohort["created_by_id"]
        members += [
            {"cohort_id": cohort_id, "user_id": p.id, "added_by_id": trainer, "added_at": p.start}
            for p in cohort.pop("people")
        ]
    writer.add(Cohort.__table__, cohorts)
    writer.add(CohortMember.__table__, members)
    return len(cohorts)
