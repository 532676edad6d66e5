"""Evaluating many learners at once gives each the answer evaluating them alone gives,
though learners whose records agree on what the rule reads share one evaluation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lms.practicals import batch_rules
from lms.practicals.rules import AllOf, AnyOf, Condition, LearnerRecords, evaluate
from tests.practicals.test_rules import DAY, GOWNING_12M, SESSION, VALID_80, WORKERS, qual, records

RULE = AllOf((VALID_80, AnyOf((GOWNING_12M, Condition("module_passed", module="asep"))), WORKERS))

quals = st.builds(
    qual,
    module=st.sampled_from(["gmp", "asep", "other"]),
    score=st.sampled_from([0.5, 0.8, 0.95]),
    issued=st.sampled_from([SESSION - 400 * DAY, SESSION - 30 * DAY, SESSION + DAY]),
    until=st.sampled_from([SESSION - DAY, SESSION + 300 * DAY, None]),
)


@st.composite
def learners(draw) -> LearnerRecords:
    found = draw(st.lists(quals, max_size=4))
    signed = draw(
        st.dictionaries(
            st.sampled_from(["gowning", "filling"]),
            st.sampled_from([SESSION - 500 * DAY, SESSION - 10 * DAY]),
            max_size=2,
        )
    )
    return records(
        *found,
        signed=signed,
        role=draw(st.sampled_from(["learner", "trainer"])),
        category=draw(st.sampled_from(["worker", "student", "teacher"])),
        waived=draw(st.sets(st.sampled_from([VALID_80.key, WORKERS.key]), max_size=1)),
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(learners(), min_size=1, max_size=12))
def test_a_batch_gives_each_learner_their_own_answer(people):
    # Duplicates on purpose: the same records under several ids share an evaluation.
    people = people + people[:3]
    base = {index: replace_waived(found) for index, found in enumerate(people)}
    waivers = {(index, "t"): found.waived for index, found in enumerate(people) if found.waived}
    batch = batch_rules.RecordsBatch(base, waivers)
    many = batch_rules.evaluate_many(RULE, batch, list(base), "t", SESSION)
    for index, found in enumerate(people):
        assert many[index] == evaluate(RULE, found, SESSION)


def replace_waived(found: LearnerRecords) -> LearnerRecords:
    return LearnerRecords(
        found.qualifications, found.signed_off, found.role, found.learner_category
    )


def test_records_the_rule_does_not_read_do_not_split_learners():
    part = batch_rules.relevance(RULE)
    plain = records(qual(), category="worker")
    assert part(plain) == part(records(qual(), qual(module="other"), category="worker"))
    assert part(plain) == part(records(qual(), signed={"filling": SESSION}, category="worker"))
    assert part(plain) != part(records(qual(), category="teacher"))
    assert part(plain) != part(records(qual(score=0.5), category="worker"))


STARTS = sorted(
    {SESSION - 400 * DAY, SESSION - 30 * DAY, SESSION - DAY, SESSION, SESSION + DAY}
    | {SESSION + 300 * DAY, SESSION + 364 * DAY, SESSION + 366 * DAY, SESSION + 700 * DAY}
)
SIGNED_RULE = AllOf(
    (
        AnyOf((Condition("practical_signed_off", practical="gowning", within_months=6), VALID_80)),
        Condition("module_passed", module="other", within_months=0),
    )
)


@settings(max_examples=80, deadline=None)
@given(learners(), st.sampled_from([RULE, SIGNED_RULE, AnyOf(()), AllOf(())]))
def test_one_mask_answers_every_start_as_evaluating_at_each(found, rule):
    mask = batch_rules.eligible_mask(rule, found, STARTS)
    for index, at in enumerate(STARTS):
        assert bool(mask >> index & 1) == evaluate(rule, found, at).eligible, at
