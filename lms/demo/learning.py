"""Learners taking modules: enrolments, lesson reads, attempts with graded answers,
qualifications (renewals and a few corrections), and their xAPI statements.

Each learner has an ability and each question a difficulty and a discrimination; the
chance of a right answer is logistic in their difference (a two-parameter IRT model),
so that item statistics computed from the answers look like those of a real bank.
Responses are drawn as a learner would give them and graded by the quiz engine's own
``grading.grade``; draws come from ``draw.draw_questions``; passes follow
``rules.has_passed``; validity follows ``progress.rules.add_months``.
"""

from __future__ import annotations

import base64
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from lms.catalog.models import Enrolment, LessonRead
from lms.demo.catalog import SyntheticModule, Version
from lms.demo.outbox import Statements
from lms.demo.people import Person, new_uuid
from lms.demo.writer import Writer
from lms.practicals.rules import QualificationRecord
from lms.progress.models import Qualification
from lms.progress.rules import add_months
from lms.quiz import grading, responses
from lms.quiz.draw import draw_questions
from lms.quiz.models import Attempt, AttemptAnswer
from lms.quiz.recording import assessment_activity, question_activity
from lms.quiz.rules import has_passed
from lms.xapi import events

#: Modules in a learner's programme, by category (fewest, most).
PROGRAMME = {"worker": (2, 7), "job_seeker": (6, 12), "student": (4, 9), "teacher": (2, 5)}
#: Days between two modules of a programme, by category (shortest, longest).
PACE = {"worker": (5, 30), "job_seeker": (1, 4), "student": (3, 14), "teacher": (7, 40)}
RELAUNCH_AFTER = timedelta(hours=4)


def module_activity(module: SyntheticModule) -> events.Activity:
    return events.Activity(kind="module", path=f"modules/{module.id}", name=module.title)


def lesson_activity(module: SyntheticModule, slug: str, titles: dict) -> events.Activity:
    return events.Activity(
        kind="lesson", path=f"modules/{module.id}/lessons/{slug}", name=titles[slug]
    )


@dataclass
class Tally:
    enrolments: int = 0
    reads: int = 0
    attempts: int = 0
    open_attempts: int = 0
    answers: int = 0
    passes: int = 0
    corrections: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)


class Learning:
    """Simulates each learner's programme and queues the rows it leaves."""

    def __init__(
        self,
        rng: random.Random,
        writer: Writer,
        statements: Statements,
        modules: list[SyntheticModule],
        lesson_titles: dict[str, dict[str, str]],
        now: datetime,
    ) -> None:
        self.rng, self.writer, self.statements, self.now = rng, writer, statements, now
        self.modules = {m.id: m for m in modules}
        self.lesson_titles = lesson_titles
        self.by_sector = {
            sector: [m for m in modules if m.sector in (sector, "both")]
            for sector in ("biopharma", "chemistry")
        }
        self.tally = Tally()
        #: (learner id, module id) -> attempts so far.
        self._numbers: Counter[tuple[int, str]] = Counter()
        self._last_launch = now
        #: Learner id -> the qualification records a prerequisite rule reads.
        self.qualifications: dict[int, list[QualificationRecord]] = defaultdict(list)

    def programme(self, person: Person) -> list[SyntheticModule]:
        """The modules ``person`` takes, prerequisites first."""
        pool = self.by_sector[person.sector or "biopharma"]
        low, high = PROGRAMME[person.category]
        wanted = min(self.rng.randint(low, high), len(pool))
        weights = [m.popularity for m in pool]
        chosen: dict[str, SyntheticModule] = {}
        while len(chosen) < wanted:
            module = self.rng.choices(pool, weights=weights)[0]
            for required in module.prerequisites:
                if required in self.modules:
                    chosen.setdefault(required, self.modules[required])
            chosen.setdefault(module.id, module)
        return sorted(chosen.values(), key=self._depth)

    def _depth(self, module: SyntheticModule) -> int:
        """0 for a module without prerequisites, else one more than its deepest."""
        found = [self.modules[p] for p in module.prerequisites if p in self.modules]
        return 1 + max(map(self._depth, found)) if found else 0

    def learner(self, person: Person, trainers: list[Person]) -> None:
        """Everything ``person`` did, from their start until now."""
        moment = person.start + timedelta(hours=self.rng.uniform(1, 48))
        low, high = PACE[person.category]
        for module in self.programme(person):
            if moment >= self.now:
                break
            self._take(person, module, moment, trainers)
            moment += timedelta(days=self.rng.uniform(low, high))

    def _take(self, person: Person, module: SyntheticModule, start: datetime, trainers) -> None:
        registration = new_uuid(self.rng)
        enrolment = {
            "id": self.writer.id(Enrolment.__table__),
            "registration": registration,
            "user_id": person.id,
            "module_id": module.id,
            "enrolled_at": start,
            "last_launched_at": start,
        }
        self.tally.enrolments += 1
        self._launch(person, module, registration, start)
        read, moment = self._read(person, module, start, registration)
        complete = module.version_at(moment).slugs <= read
        if not complete and self.rng.random() < 0.85:
            enrolment["last_launched_at"] = self._last_launch
            self.writer.add(Enrolment.__table__, [enrolment])
            return
        cycle = 0
        attempt_at = moment + timedelta(minutes=self.rng.uniform(5, 2880))
        while attempt_at < self.now:
            if attempt_at - self._last_launch >= RELAUNCH_AFTER:
                self._launch(person, module, registration, attempt_at)
            outcome = self._attempt(person, module, registration, attempt_at, cycle, read)
            if outcome is None:
                break
            submitted, passed, row = outcome
            if passed:
                valid_until = self._qualify(person, module, row, trainers)
                renew_at = valid_until - timedelta(days=self.rng.uniform(1, 50))
                if valid_until < self.now + timedelta(days=60) and self.rng.random() < 0.5:
                    cycle, attempt_at = 0, max(renew_at, submitted + timedelta(days=1))
                    continue
                break
            cycle += 1
            maximum = module.settings["max_attempts"]
            if (maximum and cycle >= maximum) or self.rng.random() < 0.2:
                break
            wait = timedelta(minutes=module.settings["cooldown_minutes"])
            attempt_at = submitted + wait + timedelta(hours=self.rng.uniform(0.2, 120))
        enrolment["last_launched_at"] = self._last_launch
        self.writer.add(Enrolment.__table__, [enrolment])

    def _launch(self, person: Person, module: SyntheticModule, registration: str, at: datetime):
        self._last_launch = at
        activity = module_activity(module)
        for kind in ("module.launched", "module.initialized"):
            self.statements.emit(kind, person, activity, at, registration=registration)

    def _read(self, person, module, start, registration) -> tuple[set[str], datetime]:
        """Lesson reads (all of them, mostly); returns the slugs read and the last time."""
        lessons = module.version_at(start).lessons
        count = len(lessons) if self.rng.random() < 0.88 else self.rng.randint(0, len(lessons) - 1)
        moment, read = start, set()
        parent = module_activity(module)
        for slug, minutes in lessons[:count]:
            moment += timedelta(minutes=minutes * self.rng.uniform(0.7, 1.6))
            if self.rng.random() < 0.15:
                moment += timedelta(hours=self.rng.uniform(4, 72))
            if moment >= self.now:
                break
            version = module.version_at(moment)
            if slug not in version.slugs:
                continue
            self.writer.add(
                LessonRead.__table__,
                [
                    {
                        "id": self.writer.id(LessonRead.__table__),
                        "user_id": person.id,
                        "module_id": module.id,
                        "version_id": version.id,
                        "lesson_slug": slug,
                        "read_at": moment,
                    }
                ],
            )
            activity = lesson_activity(module, slug, self.lesson_titles)
            self.statements.emit(
                "lesson.experienced",
                person,
                activity,
                moment,
                registration=registration,
                parent=parent,
            )
            read.add(slug)
            self.tally.reads += 1
        return read, moment

    def _attempt(self, person, module, registration, start, cycle, read):
        """One attempt: None if it is still open now, else (submitted at, passed, row)."""
        version = module.version_at(start)
        settings = module.settings
        public_id = new_uuid(self.rng)
        drawn = draw_questions(
            version.bank,
            settings["questions_per_attempt"],
            seed=public_id,
            balance_topics=settings["balance_topics"],
            shuffle_options=settings["shuffle_options"],
        )
        items = {item.question["id"]: item for item in version.items}
        ability = person.ability + 0.45 * cycle + self.rng.gauss(0, 0.25)
        limit = settings["time_limit_minutes"]
        seconds = sum(self.rng.uniform(20, 80) for _ in drawn)
        if limit:
            seconds = min(seconds, limit * 60 - 30)
        submitted = start + timedelta(seconds=seconds)
        self._numbers[(person.id, module.id)] += 1
        number = self._numbers[(person.id, module.id)]
        attempt_id = self.writer.id(Attempt.__table__)
        answers, grades = [], []
        for position, entry in enumerate(drawn):
            item = items[entry["id"]]
            saved = start + timedelta(seconds=seconds * (position + 1) / (len(drawn) + 1))
            response = self._response(item, ability)
            grade = grading.grade(item.question, response)
            grades.append((item.question, response, grade))
            if response is not None:
                answers.append(
                    {
                        "attempt_id": attempt_id,
                        "question_id": entry["id"],
                        "response": response,
                        "saved_at": saved,
                        "score": grade.score,
                        "correct": grade.correct,
                    }
                )
        still_open = submitted >= self.now
        row: dict[str, Any] = {
            "id": attempt_id,
            "public_id": public_id,
            "user_id": person.id,
            "module_id": module.id,
            "version_id": version.id,
            "registration": registration,
            "number": number,
            "started_at": start,
            "deadline": start + timedelta(minutes=limit) if limit else None,
            "submitted_at": None if still_open else submitted,
            "state": "open" if still_open else "submitted",
            "draw": drawn,
            "score_raw": None,
            "score_max": None,
            "score_scaled": None,
            "passed": None,
        }
        if still_open:
            saved = [a for a in answers if a["saved_at"] < self.now]
            for answer in saved:
                answer.update(score=None, correct=None)
            self._queue(row, saved)
            self.tally.open_attempts += 1
            return None
        raw = round(sum(g.score for _q, _r, g in grades), 6)
        maximum = float(sum(g.max for _q, _r, g in grades))
        passed = has_passed(settings, raw, maximum)
        row.update(score_raw=raw, score_max=maximum, passed=passed)
        row["score_scaled"] = round(raw / maximum, 6) if maximum else 0.0
        self._queue(row, answers)
        self._record_attempt(person, module, version, row, grades, read)
        self.tally.outcomes["passed" if passed else "failed"] += 1
        return submitted, passed, row

    def _queue(self, row: dict, answers: list[dict]) -> None:
        for answer in answers:
            answer["id"] = self.writer.id(AttemptAnswer.__table__)
        self.writer.add(Attempt.__table__, [row])
        self.writer.add(AttemptAnswer.__table__, answers)
        self.tally.attempts += 1
        self.tally.answers += len(answers)

    def _record_attempt(self, person, module, version: Version, row, grades, read) -> None:
        """The statements ``quiz.recording.record_attempt`` writes for a submission."""
        at, registration = row["submitted_at"], row["registration"]
        parent = module_activity(module)
        for question, response, grade in grades:
            self.statements.emit(
                "question.answered",
                person,
                question_activity(module.id, question),
                at,
                registration=registration,
                parent=parent,
                res=events.Result(
                    score_raw=grade.score,
                    score_min=0.0,
                    score_max=grade.max,
                    success=grade.correct,
                    response=responses.xapi_response(question, response),
                ),
            )
        duration = (row["submitted_at"] - row["started_at"]).total_seconds()
        self.statements.emit(
            "attempt.passed" if row["passed"] else "attempt.failed",
            person,
            assessment_activity(module.id, module.title),
            at,
            registration=registration,
            parent=parent,
            res=events.Result(
                score_raw=row["score_raw"],
                score_min=0.0,
                score_max=row["score_max"],
                success=bool(row["passed"]),
                completion=True,
                duration_seconds=max(0.0, duration),
                extensions={"attempt-number": row["number"]},
            ),
        )
        if row["passed"] and version.slugs <= read:
            self.statements.emit(
                "module.completed",
                person,
                parent,
                at,
                registration=registration,
                res=events.Result(success=True, completion=True),
            )

    def _response(self, item, ability: float) -> Any:
        """What a learner of ``ability`` answers to ``item`` (None: left empty)."""
        if self.rng.random() < 0.015:
            return None
        chance = 1 / (1 + math.exp(-item.discrimination * (ability - item.difficulty)))
        return (
            right_response(item.question)
            if self.rng.random() < chance
            else wrong_response(self.rng, item.question)
        )

    def _qualify(self, person, module, attempt: dict, trainers) -> datetime:
        """The pass's qualification (now and then corrected by a trainer); returns the
        end of its validity as it stands."""
        submitted = attempt["submitted_at"]
        valid_until = add_months(submitted, module.validity_months)
        row = {
            "id": self.writer.id(Qualification.__table__),
            "code": self.code(),
            "kind": "pass",
            "user_id": person.id,
            "module_id": module.id,
            "version_id": attempt["version_id"],
            "attempt_id": attempt["id"],
            "score_scaled": attempt["score_scaled"],
            "issued_at": submitted,
            "valid_until": valid_until,
            "corrects_id": None,
            "reason": None,
            "author_id": None,
        }
        self.writer.add(Qualification.__table__, [row])
        self.tally.passes += 1
        corrected_at = submitted + timedelta(days=self.rng.uniform(1, 30))
        if self.rng.random() < 0.004 and corrected_at < self.now and trainers:
            return self._correct(row, corrected_at, self.rng.choice(trainers), person)
        self.qualifications[person.id].append(
            QualificationRecord(module.id, row["score_scaled"], submitted, valid_until)
        )
        return valid_until

    def _correct(self, original: dict, at: datetime, trainer: Person, person: Person) -> datetime:
        withdraw = self.rng.random() < 0.5
        if withdraw:
            until = original["issued_at"]
            reason = "Attempt taken under another learner's account; qualification withdrawn."
        else:
            until = add_months(original["valid_until"], 3)
            reason = "Validity extended after a documented on-the-job assessment."
        self.writer.add(
            Qualification.__table__,
            [
                {
                    **original,
                    "id": self.writer.id(Qualification.__table__),
                    "code": self.code(),
                    "kind": "correction",
                    "valid_until": until,
                    "corrects_id": original["id"],
                    "reason": reason,
                    "author_id": trainer.id,
                }
            ],
        )
        self.tally.corrections += 1
        if not withdraw:
            self.qualifications[person.id].append(
                QualificationRecord(
                    original["module_id"], original["score_scaled"], original["issued_at"], until
                )
            )
        return until

    def code(self) -> str:
        """A verification code as ``new_verification_code`` makes them (128 bits)."""
        return (
            base64.urlsafe_b64encode(self.rng.getrandbits(128).to_bytes(16, "big"))
            .decode()
            .rstrip("=")
        )


def right_response(question: dict[str, Any]) -> Any:
    kind = question["type"]
    if kind in ("single_choice", "true_false", "numeric"):
        return question["answer"]
    if kind == "multiple_response":
        return list(question["answer"])
    if kind == "matching":
        return dict(question["answer"])
    if kind == "ordering":
        return [item["id"] for item in question["items"]]
    return question["accepted"][0]


def wrong_response(rng: random.Random, question: dict[str, Any]) -> Any:
    """A plausible wrong (or partly right) response, of the form ``responses.parse`` gives."""
    kind = question["type"]
    if kind == "single_choice":
        others = [o["id"] for o in question["options"] if o["id"] != question["answer"]]
        return others[0] if rng.random() < 0.5 else rng.choice(others)
    if kind == "multiple_response":
        ids = [o["id"] for o in question["options"]]
        changed = set(question["answer"]) ^ {rng.choice(ids)}
        return [i for i in ids if i in changed]
    if kind == "true_false":
        return not question["answer"]
    if kind == "numeric":
        return round(question["answer"] * rng.choice((0.5, 0.8, 1.25, 2.0, 10.0)), 3)
    if kind == "matching":
        answer = dict(question["answer"])
        first, second = rng.sample(sorted(answer), 2)
        answer[first], answer[second] = answer[second], answer[first]
        return answer
    if kind == "ordering":
        ids = [item["id"] for item in question["items"]]
        position = rng.randrange(len(ids) - 1)
        ids[position], ids[position + 1] = ids[position + 1], ids[position]
        return ids
    return rng.choice(("steril", "validated", "I don't know", "deviation report"))
