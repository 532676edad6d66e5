"""Learning events of every kind, as the features will record them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from lms import xapi

WHEN = datetime(2026, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)
MODULE = xapi.Activity(
    kind="module",
    path="modules/gmp-fundamentals",
    name={"en": "GMP fundamentals", "fr": "Les fondamentaux des BPF"},
    description={"en": "Why and how of Good Manufacturing Practice.", "fr": "Les BPF."},
)
LESSON = xapi.Activity(
    kind="lesson",
    path="modules/gmp-fundamentals/lessons/01-why-gmp",
    name={"en": "Why GMP", "fr": "Pourquoi les BPF"},
)
ASSESSMENT = xapi.Activity(
    kind="assessment",
    path="modules/gmp-fundamentals/quiz",
    name={"en": "GMP fundamentals quiz", "fr": "Quiz des fondamentaux des BPF"},
)
PRACTICAL = xapi.Activity(
    kind="practical",
    path="practicals/grade-b-gowning",
    name={"en": "Grade B gowning qualification", "fr": "Habillage en classe B"},
)
SESSION = xapi.Activity(
    kind="practical-session",
    path="practicals/grade-b-gowning/sessions/2026-03-20-room-2",
    name={"en": "Grade B gowning, 20 March, room 2", "fr": "Habillage classe B, 20 mars"},
)

INTERACTIONS = {
    "choice": xapi.Interaction(
        type="choice",
        correct_responses=["b[,]c"],
        choices=[
            ("a", {"en": "Gloves only", "fr": "Des gants seulement"}),
            ("b", {"en": "Sterile gown", "fr": "Une blouse stérile"}),
            ("c", {"en": "Sterile goggles", "fr": "Des lunettes stériles"}),
        ],
    ),
    "true-false": xapi.Interaction(type="true-false", correct_responses=["true"]),
    "numeric": xapi.Interaction(type="numeric", correct_responses=["3.9[:]4.1"]),
    "matching": xapi.Interaction(
        type="matching",
        correct_responses=["4ma[.]zero[,]20ma[.]span"],
        source=[("4ma", {"en": "4 mA"}), ("20ma", {"en": "20 mA"})],
        target=[("zero", {"en": "0 %", "fr": "0 %"}), ("span", {"en": "100 %"})],
    ),
    "sequencing": xapi.Interaction(
        type="sequencing",
        correct_responses=["wash[,]gown[,]gloves"],
        choices=[
            ("gown", {"en": "Put on the gown", "fr": "Enfiler la blouse"}),
            ("wash", {"en": "Wash hands", "fr": "Se laver les mains"}),
            ("gloves", {"en": "Put on gloves", "fr": "Mettre les gants"}),
        ],
    ),
    "fill-in": xapi.Interaction(type="fill-in", correct_responses=["{case_matters=false}ATEX"]),
}
RESPONSES = {
    "choice": "b[,]c",
    "true-false": "true",
    "numeric": "4",
    "matching": "4ma[.]zero[,]20ma[.]span",
    "sequencing": "wash[,]gown[,]gloves",
    "fill-in": "atex",
}


def question(kind: str) -> xapi.Activity:
    return xapi.Activity(
        kind="question",
        path=f"modules/gmp-fundamentals/quiz/questions/q-{kind}",
        name={"en": f"Question ({kind})", "fr": f"Question ({kind})"},
        description={"en": "Which is right?", "fr": "Laquelle est juste ?"},
        interaction=INTERACTIONS[kind],
    )


def person(public_id: str | None = None, *, mode: str = "account", org_id: int = 1, **extra):
    """A stand-in for ``User`` with what the builder reads."""
    public_id = public_id or str(uuid.uuid4())
    return SimpleNamespace(
        id=extra.pop("id", 1),
        public_id=public_id,
        email=extra.pop("email", f"{public_id[:8]}@example.org"),
        language=extra.pop("language", None),
        organisation_id=org_id,
        organisation=SimpleNamespace(actor_mode=mode),
    )


def every_event(learner, trainer, *, registration: str | None = None):
    """One event of every kind (and every question type)."""
    registration = registration or str(uuid.uuid4())
    E = xapi.LearningEvent
    common = {"learner": learner, "occurred_at": WHEN, "registration": registration}
    score = {"score_raw": 8, "score_min": 0, "score_max": 10, "duration_seconds": 754.3}
    events = [
        E(kind="module.launched", activity=MODULE, **common),
        E(kind="module.initialized", activity=MODULE, **common),
        E(kind="lesson.experienced", activity=LESSON, parent=MODULE, **common),
        E(
            kind="attempt.passed",
            activity=ASSESSMENT,
            parent=MODULE,
            result=xapi.Result(success=True, completion=True, **score),
            **common,
        ),
        E(
            kind="attempt.failed",
            activity=ASSESSMENT,
            parent=MODULE,
            result=xapi.Result(
                score_raw=3, score_min=0, score_max=10, success=False, completion=True
            ),
            **common,
        ),
        E(kind="module.completed", activity=MODULE, result=xapi.Result(completion=True), **common),
        E(kind="practical.registered", activity=SESSION, parent=PRACTICAL, **common),
        E(kind="practical.cancelled", activity=SESSION, parent=PRACTICAL, **common),
        E(kind="practical.attended", activity=SESSION, instructor=trainer, **common),
        E(
            kind="practical.passed",
            activity=SESSION,
            parent=PRACTICAL,
            instructor=trainer,
            result=xapi.Result(success=True, completion=True),
            **common,
        ),
        E(
            kind="practical.failed",
            activity=SESSION,
            instructor=trainer,
            result=xapi.Result(success=False, extensions={"comment": "Touched the mask"}),
            **common,
        ),
        E(
            kind="prerequisite.waived",
            activity=MODULE,
            instructor=trainer,
            result=xapi.Result(extensions={"reason": "Qualified at the previous employer"}),
            extensions={"waived-for": "practicals/grade-b-gowning"},
            **common,
        ),
    ]
    for kind, response in RESPONSES.items():
        events.append(
            E(
                kind="question.answered",
                activity=question(kind),
                parent=ASSESSMENT,
                grouping=(MODULE,),
                result=xapi.Result(response=response, success=True, duration_seconds=12.5),
                **common,
            )
        )
    return events
