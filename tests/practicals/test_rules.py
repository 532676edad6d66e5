"""Rule evaluation: every condition kind, AND/OR nesting, expiry before the session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.catalog.schema import FileChecker
from lms.practicals.rules import (
    NO_PREREQUISITES,
    AllOf,
    AnyOf,
    Condition,
    LearnerRecords,
    QualificationRecord,
    evaluate,
    months_before,
    parse_rule,
    rule_from_data,
    within_reach,
)

SESSION = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def qual(module="gmp", score=0.9, issued=SESSION - 30 * DAY, until=SESSION + 300 * DAY):
    return QualificationRecord(module, score, issued, until)


def records(*quals, signed=None, role="learner", category="worker", waived=()):
    return LearnerRecords(tuple(quals), signed or {}, role, category, frozenset(waived))


PASSED = Condition("module_passed", module="gmp")
VALID = Condition("qualification_valid", module="gmp")
VALID_80 = Condition("qualification_valid", module="gmp", min_score=0.8)
PASSED_12M = Condition("module_passed", module="gmp", within_months=12)
GOWNING = Condition("practical_signed_off", practical="gowning")
GOWNING_12M = Condition("practical_signed_off", practical="gowning", within_months=12)
WORKERS = Condition("learner_category", values=("worker", "student"))
TRAINERS = Condition("role", values=("trainer",))

CASES = [
    # (condition, records, eligible, reason when not)
    (PASSED, records(qual()), True, None),
    (PASSED, records(), False, "not_passed"),
    (PASSED, records(qual(module="other")), False, "not_passed"),
    (PASSED, records(qual(issued=SESSION + DAY)), False, "not_passed"),
    (PASSED, records(qual(until=SESSION - DAY)), True, None),  # passed, though expired
    (VALID, records(qual()), True, None),
    (VALID, records(qual(until=SESSION - DAY)), False, "expires_before"),
    (VALID, records(qual(until=SESSION)), False, "expires_before"),  # until is excluded
    (VALID, records(qual(until=SESSION + timedelta(minutes=1))), True, None),
    (VALID, records(qual(until=None)), True, None),
    (VALID, records(qual(until=SESSION - DAY), qual(issued=SESSION - 2 * DAY)), True, None),
    (VALID_80, records(qual(score=0.8)), True, None),
    (VALID_80, records(qual(score=0.79)), False, "score_too_low"),
    (VALID_80, records(qual(score=None)), False, "score_too_low"),
    (VALID_80, records(qual(score=0.95, until=SESSION - DAY)), False, "expires_before"),
    (PASSED_12M, records(qual(issued=SESSION - 200 * DAY)), True, None),
    (PASSED_12M, records(qual(issued=SESSION - 400 * DAY)), False, "too_old"),
    (GOWNING, records(signed={"gowning": SESSION - DAY}), True, None),
    (GOWNING, records(), False, "not_signed_off"),
    (GOWNING, records(signed={"other": SESSION - DAY}), False, "not_signed_off"),
    (GOWNING_12M, records(signed={"gowning": SESSION - 400 * DAY}), False, "too_old"),
    (GOWNING_12M, records(signed={"gowning": SESSION - 300 * DAY}), True, None),
    (WORKERS, records(category="student"), True, None),
    (WORKERS, records(category="job_seeker"), False, "not_allowed"),
    (WORKERS, records(category=None), False, "not_allowed"),
    (TRAINERS, records(role="trainer"), True, None),
    (TRAINERS, records(role="learner"), False, "not_allowed"),
]


@pytest.mark.parametrize(("condition", "learner", "eligible", "reason"), CASES)
def test_each_condition_kind(condition, learner, eligible, reason):
    result = evaluate(condition, learner, SESSION)
    assert result.eligible is eligible
    assert [item.reason for item in result.missing] == ([reason] if reason else [])


def test_a_pass_that_expires_before_the_session_date_blocks_though_valid_today():
    today = SESSION - 60 * DAY
    learner = records(qual(issued=today - 300 * DAY, until=today + 30 * DAY))
    assert evaluate(VALID, learner, today).eligible
    result = evaluate(VALID, learner, SESSION)
    assert not result.eligible
    assert result.missing[0].detail["valid_until"] == today + 30 * DAY


NESTED = AllOf((VALID_80, AnyOf((GOWNING, AllOf((WORKERS, PASSED_12M))))))


@pytest.mark.parametrize(
    ("rule", "learner", "eligible", "missing_keys"),
    [
        (AllOf((PASSED, GOWNING)), records(qual()), False, ["practical_signed_off:gowning"]),
        (AllOf((PASSED, GOWNING)), records(qual(), signed={"gowning": SESSION}), True, []),
        (AllOf(()), records(), True, []),
        (AnyOf((PASSED, GOWNING)), records(signed={"gowning": SESSION}), True, []),
        (
            AnyOf((PASSED, GOWNING)),
            records(),
            False,
            ["module_passed:gmp", "practical_signed_off:gowning"],
        ),
        (NESTED, records(qual(score=0.9), signed={"gowning": SESSION - DAY}), True, []),
        (NESTED, records(qual(score=0.9)), True, []),  # worker and passed within 12 months
        (
            NESTED,
            records(qual(score=0.9), category="job_seeker"),
            False,
            ["practical_signed_off:gowning", "learner_category"],
        ),
        (
            NESTED,
            records(qual(score=0.5), signed={"gowning": SESSION}),
            False,
            ["qualification_valid:gmp"],
        ),
    ],
)
def test_and_or_nesting(rule, learner, eligible, missing_keys):
    result = evaluate(rule, learner, SESSION)
    assert result.eligible is eligible
    assert result.missing_keys() == missing_keys


def test_an_unmet_any_of_lists_each_alternative():
    result = evaluate(
        AnyOf((PASSED, AllOf((GOWNING, WORKERS)))), records(category="teacher"), SESSION
    )
    (group,) = result.missing
    assert group.reason == "one_of"
    assert [[m.key for m in branch] for branch in group.alternatives] == [
        ["module_passed:gmp"],
        ["practical_signed_off:gowning", "learner_category"],
    ]


def test_a_waived_condition_counts_as_met_and_is_reported():
    rule = AllOf((VALID, GOWNING))
    result = evaluate(rule, records(qual(), waived={"practical_signed_off:gowning"}), SESSION)
    assert result.eligible
    assert result.waived == (GOWNING,)
    assert not evaluate(rule, records(waived={"practical_signed_off:gowning"}), SESSION).eligible


def test_missing_conditions_link_to_what_satisfies_them():
    result = evaluate(AllOf((VALID, GOWNING, WORKERS)), records(category="teacher"), SESSION)
    assert [m.link for m in result.missing] == [("module", "gmp"), ("practical", "gowning"), None]


def test_within_reach_ignores_what_can_be_learned_but_not_who_one_is():
    assert within_reach(AllOf((VALID, GOWNING)), records())
    assert not within_reach(AllOf((VALID, WORKERS)), records(category="teacher"))
    assert within_reach(AnyOf((TRAINERS, PASSED)), records())


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 3, 31, tzinfo=UTC), 1, datetime(2026, 2, 28, tzinfo=UTC)),
        (datetime(2024, 3, 31, tzinfo=UTC), 1, datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 12, datetime(2025, 1, 15, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 13, datetime(2024, 12, 15, tzinfo=UTC)),
    ],
)
def test_months_before(moment, months, expected):
    assert months_before(moment, months) == expected


def _parse(data):
    checker = FileChecker("t.yaml")
    rule = parse_rule(data, checker)
    return rule, [f"{p.field}: {p.message}" for p in checker.problems]


def test_a_rule_round_trips_through_its_file_form():
    rule = AllOf((VALID_80, AnyOf((GOWNING_12M, WORKERS)), PASSED_12M))
    assert rule_from_data(rule.as_data()) == rule


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"some_of": []}, "prerequisites.some_of: unknown condition 'some_of'"),
        ({"all_of": []}, "prerequisites.all_of: needs at least 1 item(s)"),
        ({"all_of": [{"a": 1, "b": 2}]}, "prerequisites.all_of[0]: expected a mapping"),
        ({"module_passed": {}}, "prerequisites.module_passed: missing required key 'module'"),
        (
            {"module_passed": {"module": "x", "min_score": 80}},
            "prerequisites.module_passed.min_score: must be above 0 and at most 1, not 80",
        ),
        (
            {"practical_signed_off": {"practical": "x", "min_score": 0.5}},
            "prerequisites.practical_signed_off.min_score: unknown key 'min_score'",
        ),
        (
            {"qualification_valid": {"module": "x", "within_months": 0}},
            "prerequisites.qualification_valid.within_months: must be between 1 and 600, not 0",
        ),
        ({"role": {"in": ["boss"]}}, "prerequisites.role.in[0]: 'boss' is not one of"),
        ({"learner_category": {"in": []}}, "prerequisites.learner_category.in: needs at least"),
        ({"module_passed": {"module": "Not A Slug"}}, "prerequisites.module_passed.module: "),
    ],
)
def test_unsound_rules_are_reported_with_their_field(data, problem):
    _rule, problems = _parse(data)
    assert any(p.startswith(problem) for p in problems), problems


def test_rules_nest_no_deeper_than_the_limit():
    data = {"module_passed": {"module": "x"}}
    for _ in range(8):
        data = {"all_of": [data]}
    _rule, problems = _parse(data)
    assert any("nest deeper" in p for p in problems)


conditions = st.sampled_from([PASSED, VALID, VALID_80, PASSED_12M, GOWNING, WORKERS, TRAINERS])
rules_tree = st.recursive(
    conditions,
    lambda children: (
        st.builds(AllOf, st.tuples(children, children))
        | st.builds(AnyOf, st.tuples(children, children))
    ),
    max_leaves=8,
)
learners = st.builds(
    records,
    st.one_of(
        st.none(),
        st.builds(
            qual,
            score=st.floats(0, 1),
            issued=st.just(SESSION - 400 * DAY) | st.just(SESSION - DAY),
            until=st.just(SESSION - DAY) | st.just(SESSION + DAY),
        ),
    ),
    signed=st.sampled_from([{}, {"gowning": SESSION - DAY}]),
    category=st.sampled_from(["worker", "teacher"]),
).map(
    lambda r: LearnerRecords(
        tuple(q for q in r.qualifications if q), r.signed_off, r.role, r.learner_category
    )
)


@given(rules_tree, learners)
def test_eligible_exactly_when_nothing_is_missing(rule, learner):
    result = evaluate(rule, learner, SESSION)
    assert result.eligible is (not result.missing)


@given(rules_tree, learners)
def test_waiving_every_missing_condition_makes_eligible(rule, learner):
    result = evaluate(rule, learner, SESSION)
    waived = LearnerRecords(
        learner.qualifications,
        learner.signed_off,
        learner.role,
        learner.learner_category,
        frozenset(result.missing_keys()),
    )
    assert evaluate(rule, waived, SESSION).eligible


@given(rules_tree, learners)
def test_the_file_form_round_trips(rule, _learner):
    assert rule_from_data(rule.as_data()) == rule


def test_a_type_without_prerequisites_is_read_back_and_lets_everyone_in():
    stored = NO_PREREQUISITES.as_data()
    assert rule_from_data(stored) == NO_PREREQUISITES
    assert evaluate(rule_from_data(stored), records(), SESSION).eligible
    with pytest.raises(ValueError, match="at least 1"):
        rule_from_data({"any_of": []})
