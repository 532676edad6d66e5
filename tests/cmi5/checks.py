"""Checks of what the simulated LMS received, shared by the cmi5 tests."""

from __future__ import annotations

import re

from lms.cmi5.conformance import problems, sequence_problems
from lms.cmi5.statements import SESSION_ID, Launch
from lms.xapi import validation

DURATION = re.compile(r"^PT(\d+H)?(\d+M)?(\d+(\.\d+)?S)?$")


def categories(statement) -> set[str]:
    return {a["id"] for a in statement["context"]["contextActivities"].get("category", [])}


def launch_facts(launch) -> Launch:
    return Launch(
        actor=launch.actor,
        activity_id=launch.activity_id,
        registration=launch.registration,
        context_template=launch.context_template,
        mastery_score=launch.launch_data.get("masteryScore"),
    )


def assert_conformant(lms, *launches) -> None:
    """Every received statement is valid xAPI and valid cmi5 for its launch, in order."""
    assert lms.refusals == []
    by_session = {launch.session_id: launch for launch in launches}
    for statement in lms.received():
        assert validation.problems(statement) == [], statement
        launch = by_session[statement["context"]["extensions"][SESSION_ID]]
        assert problems(statement, launch_facts(launch)) == [], statement
    assert sequence_problems(lms.received()) == []
