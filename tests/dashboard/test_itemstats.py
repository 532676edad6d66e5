"""Item analysis: hand-computed values, undefined cases, and properties that must hold."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.dashboard import itemstats

#: Four learners, three right/wrong questions: a Guttman pattern.
GUTTMAN = [[1, 1, 1], [1, 1, 0], [1, 0, 0], [0, 0, 0]]


@pytest.mark.parametrize(
    ("values", "mean", "median", "sd"),
    [
        ([], None, None, None),
        ([0.5], 0.5, 0.5, None),
        ([1, 2, 3, 4], 2.5, 2.5, math.sqrt(5 / 3)),
        ([3, 1, 2], 2.0, 2.0, 1.0),
        ([0.7, 0.7, 0.7], 0.7, 0.7, 0.0),
    ],
)
def test_mean_median_and_sample_standard_deviation(values, mean, median, sd):
    assert itemstats.mean(values) == (None if mean is None else pytest.approx(mean))
    assert itemstats.median(values) == (None if median is None else pytest.approx(median))
    assert itemstats.standard_deviation(values) == (None if sd is None else pytest.approx(sd))


def test_moments_give_population_and_sample_variances():
    moments = itemstats.Moments.of([1, 2, 3, 4])
    assert (moments.n, moments.total, moments.squares) == (4, 10, 30)
    assert moments.variance() == pytest.approx(1.25)
    assert moments.sample_variance() == pytest.approx(5 / 3)
    assert itemstats.Moments.of([2]).variance() is None
    assert itemstats.Moments().mean is None


def test_kr20_of_a_guttman_pattern_is_three_quarters():
    # Item variances 0.1875 + 0.25 + 0.1875 = 0.625; totals 3, 2, 1, 0 have variance 1.25.
    assert itemstats.cronbach_alpha(GUTTMAN) == pytest.approx(1.5 * (1 - 0.625 / 1.25))


def test_alpha_with_partial_credit_is_six_sevenths():
    # Item variances 1/6 and 1/18; totals 1.5, 1, 0 have variance 7/18.
    assert itemstats.cronbach_alpha([[1, 0.5], [0.5, 0.5], [0, 0]]) == pytest.approx(6 / 7)


def test_alpha_is_negative_for_questions_that_work_against_each_other():
    assert itemstats.cronbach_alpha([[1, 0], [0, 1], [1, 1]]) == pytest.approx(-2.0)


@pytest.mark.parametrize(
    "matrix",
    [
        [],
        [[1, 0, 1]],  # one attempt
        [[1], [0], [1]],  # one question
        [[1, 0], [0, 1]],  # every total the same: no spread
        [[1, 1], [1, 1], [1, 1]],  # nobody differs at all
    ],
)
def test_alpha_is_undefined_rather_than_a_division_by_zero(matrix):
    assert itemstats.cronbach_alpha(matrix) is None


def test_the_standard_error_of_measurement():
    assert itemstats.standard_error(10.0, 0.75) == pytest.approx(5.0)
    assert itemstats.standard_error(10.0, 1.0) == 0.0
    assert itemstats.standard_error(10.0, None) is None
    assert itemstats.standard_error(None, 0.8) is None
    assert itemstats.standard_error(10.0, -0.3) is None


@pytest.mark.parametrize(
    ("value", "band"),
    [(None, None), (0.92, "high"), (0.8, "high"), (0.75, "acceptable"), (0.62, "moderate"),
     (0.3, "low"), (-1.0, "low")],
)  # fmt: skip
def test_reliability_bands(value, band):
    assert itemstats.reliability_band(value) == band


def test_facility_is_the_share_of_the_marks():
    assert itemstats.facility([1, 0, 1, 0]) == 0.5
    assert itemstats.facility([1, 0.5, 0]) == 0.5
    assert itemstats.facility([]) is None


def test_the_corrected_point_biserial_leaves_the_question_out_of_the_total():
    # First question of GUTTMAN: x = 1, 1, 1, 0; totals 3, 2, 1, 0; rest 2, 1, 0, 0.
    # cov = 0.1875, var(x) = 0.1875, var(rest) = 0.6875.
    expected = 0.1875 / math.sqrt(0.1875 * 0.6875)
    found = itemstats.item_rest_correlation([1, 1, 1, 0], [3, 2, 1, 0])
    assert found == pytest.approx(expected)
    assert found == pytest.approx(0.522, abs=1e-3)
    # The uncorrected correlation with the total would be higher (0.77).
    uncorrected = itemstats.correlation(itemstats.CoMoments.of([1, 1, 1, 0], [3, 2, 1, 0]))
    assert uncorrected > found


def test_a_question_the_strong_learners_miss_discriminates_negatively():
    # Two strong learners (rest 5) get it wrong, two weak ones (rest 1) get it right.
    r = itemstats.item_rest_correlation([0, 0, 1, 1], [5, 5, 2, 2])
    assert r == pytest.approx(-1.0)
    assert itemstats.flags(0.5, r) == ("negative_discrimination",)


@pytest.mark.parametrize(
    ("item", "totals"),
    [([], []), ([1], [3]), ([1, 1, 1], [3, 2, 1]), ([1, 0, 1], [2, 1, 2])],
)
def test_the_correlation_is_undefined_without_spread(item, totals):
    # Fewer than two attempts, the question always right, or the rest always the same.
    assert itemstats.item_rest_correlation(item, totals) is None


@pytest.mark.parametrize(
    ("attempts", "size"), [(2, 1), (3, 1), (4, 1), (10, 3), (50, 14), (100, 27), (370, 100)]
)
def test_each_27_percent_group_size(attempts, size):
    assert itemstats.group_size(attempts) == size


def test_upper_lower_index_compares_the_best_and_the_weakest_quarter():
    totals = [3, 2, 1, 0]
    assert itemstats.upper_lower_groups(totals) == ([0], [3])
    assert itemstats.upper_lower_index([1, 1, 1, 0], totals) == 1.0
    assert itemstats.upper_lower_index([0, 1, 1, 1], totals) == -1.0
    # The best attempt did not draw the question: no upper group for it.
    assert itemstats.upper_lower_index([None, 1, 1, 0], totals) is None
    assert itemstats.upper_lower_groups([5]) == ([], [])


def test_ties_rank_the_earlier_attempt_higher():
    assert itemstats.upper_lower_groups([2, 2, 2, 2]) == ([0], [3])


@pytest.mark.parametrize(
    ("facility", "discrimination", "expected"),
    [
        (0.5, 0.3, ()),
        (0.96, 0.1, ("too_easy",)),
        (0.95, 0.1, ()),
        (0.19, 0.25, ("too_hard",)),
        (0.2, 0.25, ()),
        (0.1, -0.2, ("negative_discrimination", "too_hard")),
        (1.0, None, ("too_easy",)),
        (None, None, ()),
        (0.6, -0.01, ("negative_discrimination",)),
    ],
)
def test_flags(facility, discrimination, expected):
    assert itemstats.flags(facility, discrimination) == expected


def test_scores_fall_in_bands_of_ten_points_with_full_marks_in_the_last():
    assert itemstats.score_bins([0, 0.05, 0.1, 0.3, 0.7, 0.95, 1.0, 0.999]) == [
        2, 1, 0, 1, 0, 0, 0, 1, 0, 3,
    ]  # fmt: skip
    assert itemstats.score_bins([]) == [0] * 10


def test_dichotomous_moments_are_told_from_partial_credit():
    assert itemstats.Moments.of([1, 0, 1]).is_dichotomous
    assert not itemstats.Moments.of([1, 0.5, 0]).is_dichotomous


# Properties --------------------------------------------------------------------------

scores = st.floats(min_value=0, max_value=1, allow_nan=False)
right_or_wrong = st.sampled_from([0.0, 1.0])


def matrices(values=right_or_wrong):
    return st.integers(min_value=1, max_value=8).flatmap(
        lambda k: st.lists(st.lists(values, min_size=k, max_size=k), min_size=0, max_size=30)
    )


@settings(max_examples=200, deadline=None)
@given(matrices(st.one_of(right_or_wrong, scores)))
def test_alpha_never_exceeds_one(matrix):
    alpha = itemstats.cronbach_alpha(matrix)
    assert alpha is None or alpha <= 1.0


@settings(max_examples=200, deadline=None)
@given(st.lists(scores, max_size=50))
def test_facility_stays_within_zero_and_one(values):
    found = itemstats.facility(values)
    assert found is None if not values else 0.0 <= found <= 1.0 + 1e-12


@settings(max_examples=200, deadline=None)
@given(matrices())
def test_sums_from_a_database_give_the_same_figures_as_the_values(matrix):
    """The pages add up sums in SQL; the figures must equal those of the values."""
    totals = [sum(row) for row in matrix]
    for column in zip(*matrix, strict=True) if matrix else []:
        direct = itemstats.item_rest_correlation(list(column), totals)
        moments = itemstats.CoMoments.item_rest(
            len(column),
            sum(column),
            sum(x * x for x in column),
            sum(totals),
            sum(t * t for t in totals),
            sum(x * t for x, t in zip(column, totals, strict=True)),
        )
        via_sums = itemstats.correlation(moments)
        assert (direct is None) == (via_sums is None)
        if direct is not None:
            assert -1.0 <= direct <= 1.0
            assert via_sums == pytest.approx(direct, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=20, allow_nan=False), max_size=40))
def test_the_27_percent_groups_are_disjoint_and_equal_in_size(totals):
    upper, lower = itemstats.upper_lower_groups(totals)
    assert len(upper) == len(lower)
    assert not set(upper) & set(lower)
    if upper:
        assert min(totals[i] for i in upper) >= max(totals[i] for i in lower)


@settings(max_examples=100, deadline=None)
@given(matrices(st.one_of(right_or_wrong, scores)))
def test_no_input_crashes_the_test_statistics(matrix):
    totals = [sum(row) for row in matrix]
    sd = itemstats.standard_deviation(totals)
    alpha = itemstats.cronbach_alpha(matrix)
    sem = itemstats.standard_error(sd, alpha)
    assert sem is None or 0.0 <= sem <= (sd or 0.0) + 1e-9
    shares = [total / len(row) for total, row in zip(totals, matrix, strict=True) if row]
    assert sum(itemstats.score_bins(shares)) == len(shares)
