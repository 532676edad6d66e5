"""Which learners are held back only by an expired qualification (``eligibility.to_renew``):
pure, over the practicals' rule evaluation, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lms.dashboard.eligibility import to_renew
from lms.practicals.rules import LearnerRecords, QualificationRecord, evaluate, rule_from_data

AT = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def valid(module: str, score: float = 0.9) -> QualificationRecord:
    return QualificationRecord(module, score, AT - 30 * DAY, AT + 300 * DAY)


def expired(module: str, score: float = 0.9, days_ago: int = 400) -> QualificationRecord:
    issued = AT - days_ago * DAY
    return QualificationRecord(module, score, issued, issued + 365 * DAY)


def valid_for(module: str) -> dict:
    return {"qualification_valid": {"module": module}}


GOWNING = {"all_of": [valid_for("gmp"), valid_for("aseptic")]}
FILLING = {
    "all_of": [
        {"practical_signed_off": {"practical": "gowning", "within_months": 12}},
        {"qualification_valid": {"module": "aseptic", "min_score": 0.8}},
    ]
}
LOOP = {
    "any_of": [
        valid_for("instrumentation"),
        {"module_passed": {"module": "instrumentation", "min_score": 0.9, "within_months": 24}},
    ]
}
NESTED = {"all_of": [valid_for("gmp"), {"any_of": [valid_for("aseptic"), valid_for("sterile")]}]}


def renewed(rule: dict, *passes: QualificationRecord, signed_off=None, waived=()) -> list | None:
    records = LearnerRecords(
        qualifications=passes, signed_off=signed_off or {}, waived=frozenset(waived)
    )
    found = to_renew(evaluate(rule_from_data(rule), records, AT).missing)
    return None if found is None else [(item.condition.module, item.reason) for item in found]


@pytest.mark.parametrize(
    ("rule", "passes", "expected"),
    [
        (GOWNING, [valid("gmp"), valid("aseptic")], None),  # eligible: nothing to renew
        (GOWNING, [expired("gmp"), valid("aseptic")], [("gmp", "expires_before")]),
        (
            GOWNING,
            [expired("gmp"), expired("aseptic")],
            [("gmp", "expires_before"), ("aseptic", "expires_before")],
        ),
        (GOWNING, [expired("gmp")], None),  # never had aseptic
        (GOWNING, [valid("gmp")], None),
        (LOOP, [expired("instrumentation", 0.8)], [("instrumentation", "expires_before")]),
        # a high pass within 24 months: eligible through the second branch
        (LOOP, [expired("instrumentation", 0.95, days_ago=400)], None),
        (
            LOOP,
            [expired("instrumentation", 0.95, days_ago=900)],
            [("instrumentation", "expires_before")],
        ),
        (LOOP, [], None),
        # any_of: aseptic never passed, sterile expired: renewing sterile is enough
        (
            NESTED,
            [expired("gmp"), expired("sterile")],
            [("gmp", "expires_before"), ("sterile", "expires_before")],
        ),
        (NESTED, [expired("gmp")], None),
    ],
)
def test_only_an_expired_pass_and_nothing_else_is_to_renew(rule, passes, expected):
    assert renewed(rule, *passes) == expected


def test_a_pass_older_than_the_rule_accepts_is_to_renew():
    rule = {"module_passed": {"module": "gmp", "within_months": 6}}
    assert renewed(rule, expired("gmp", days_ago=200)) == [("gmp", "too_old")]
    assert renewed(rule, valid("gmp")) is None


def test_a_score_below_the_minimum_is_not_an_expiry():
    old_high, new_low = expired("aseptic", 0.9), valid("aseptic", 0.7)
    signed = {"gowning": AT - 30 * DAY}
    assert renewed(FILLING, old_high, new_low, signed_off=signed) == [("aseptic", "expires_before")]
    assert renewed(FILLING, new_low, signed_off=signed) is None


def test_a_missing_or_old_sign_off_is_not_an_expired_qualification():
    assert renewed(FILLING, expired("aseptic")) is None
    old = {"gowning": AT - 500 * DAY}
    assert renewed(FILLING, expired("aseptic"), signed_off=old) is None


def test_a_waived_condition_is_not_to_renew():
    waived = {"qualification_valid:gmp"}
    assert renewed(GOWNING, expired("gmp"), valid("aseptic"), waived=waived) is None
    both = renewed(GOWNING, expired("gmp"), expired("aseptic"), waived=waived)
    assert both == [("aseptic", "expires_before")]
