"""Item analysis of a quiz (classical test theory): pure functions, no database.

The definitions the results pages use, each on plain numbers:

- **Scores** of attempts are shares of the maximum (0..1); the page shows them as %.
- **Mean**, **median**, and the **sample standard deviation** (divided by n - 1).
- **Reliability**: coefficient alpha, ``k / (k - 1) * (1 - sum of item variances /
  variance of the totals)``, with population variances (alpha does not depend on
  that choice: the factor n / (n - 1) cancels). When every item is scored 0 or 1 it
  *is* KR-20 (Kuder-Richardson 20) and is named so; with partial credit it is
  Cronbach's alpha.
- **Standard error of measurement**: ``sd * sqrt(1 - reliability)``.
- **Facility** of a question: the mean of its scores over the attempts that drew it, as
  a share of its maximum (1 point): for a right/wrong question, the share right.
- **Discrimination**: the *corrected* point-biserial, the Pearson correlation between the
  question's score and the rest of the attempt's score (total minus this question), so
  the question is not correlated with itself (which inflates the uncorrected one).
- **Upper-lower index** (Kelley's 27 %): facility in the best 27 % of attempts minus
  facility in the weakest 27 %, attempts ranked by total score.

Every function returns None where the statistic is undefined (fewer than two values,
no variance) instead of dividing by zero. Figures can be computed from the values
themselves or from sums (:class:`Moments`, :class:`CoMoments`) that a database adds up,
with the same result.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Below this many (first) attempts the page warns that the figures are unreliable.
MIN_ATTEMPTS = 20
#: A question whose facility is above this looks too easy to tell learners apart.
TOO_EASY = 0.95
#: A question whose facility is below this looks too hard, or keyed wrongly.
TOO_HARD = 0.2
#: The share of attempts in each of the upper and lower groups.
GROUP_SHARE = 0.27
#: Flags, in the order a page lists them.
FLAGS = ("negative_discrimination", "too_easy", "too_hard")

#: Variances below this share of the sum of squares are rounding noise, i.e. zero.
_RELATIVE_ZERO = 1e-12


def _is_zero(spread: float, scale: float) -> bool:
    return spread <= _RELATIVE_ZERO * max(scale, 1.0)


@dataclass(frozen=True)
class Moments:
    """The count, sum and sum of squares of one variable."""

    n: int = 0
    total: float = 0.0
    squares: float = 0.0

    @classmethod
    def of(cls, values: Iterable[float]) -> Moments:
        values = list(values)
        return cls(len(values), float(sum(values)), float(sum(v * v for v in values)))

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    def variance(self) -> float | None:
        """The population variance (divided by n); None for fewer than two values."""
        if self.n < 2:
            return None
        spread = self.n * self.squares - self.total * self.total
        if _is_zero(spread, self.n * self.squares):
            return 0.0
        return spread / (self.n * self.n)

    def sample_variance(self) -> float | None:
        """The sample variance (divided by n - 1); None for fewer than two values."""
        population = self.variance()
        return None if population is None else population * self.n / (self.n - 1)

    @property
    def is_dichotomous(self) -> bool:
        """True when every value is 0 or 1 (for values within [0, 1], x² = x exactly then)."""
        return math.isclose(self.squares, self.total, rel_tol=1e-9, abs_tol=1e-9)


@dataclass(frozen=True)
class CoMoments:
    """Sums over pairs (x, y): what a correlation needs."""

    n: int = 0
    sx: float = 0.0
    sxx: float = 0.0
    sy: float = 0.0
    syy: float = 0.0
    sxy: float = 0.0

    @classmethod
    def of(cls, xs: Sequence[float], ys: Sequence[float]) -> CoMoments:
        if len(xs) != len(ys):
            raise ValueError("xs and ys differ in length")
        return cls(
            len(xs),
            float(sum(xs)),
            float(sum(x * x for x in xs)),
            float(sum(ys)),
            float(sum(y * y for y in ys)),
            float(sum(x * y for x, y in zip(xs, ys, strict=True))),
        )

    @classmethod
    def item_rest(
        cls, n: int, sx: float, sxx: float, st: float, stt: float, sxt: float
    ) -> CoMoments:
        """The pairs (item score x, rest score t - x), from sums over (x, total t)."""
        return cls(n, sx, sxx, st - sx, stt - 2 * sxt + sxx, sxt - sxx)


def correlation(pairs: CoMoments) -> float | None:
    """Pearson's r; None for fewer than two pairs or when x or y does not vary."""
    n = pairs.n
    if n < 2:
        return None
    spread_x = n * pairs.sxx - pairs.sx * pairs.sx
    spread_y = n * pairs.syy - pairs.sy * pairs.sy
    if _is_zero(spread_x, n * pairs.sxx) or _is_zero(spread_y, n * pairs.syy):
        return None
    r = (n * pairs.sxy - pairs.sx * pairs.sy) / math.sqrt(spread_x * spread_y)
    return max(-1.0, min(1.0, r))


# Test statistics ---------------------------------------------------------------------


def mean(values: Sequence[float]) -> float | None:
    return Moments.of(values).mean


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def standard_deviation(values: Sequence[float]) -> float | None:
    """The sample standard deviation (n - 1); None for fewer than two values."""
    variance = Moments.of(values).sample_variance()
    return None if variance is None else math.sqrt(variance)


def reliability(item_variances: Sequence[float], total_variance: float | None) -> float | None:
    """Coefficient alpha from the items' variances and the totals' variance (both of the
    same kind, population or sample). None for fewer than two items or totals that do
    not vary. At most 1; it can be negative (items that work against each other)."""
    k = len(item_variances)
    if k < 2 or total_variance is None or total_variance <= 0:
        return None
    alpha = k / (k - 1) * (1 - sum(item_variances) / total_variance)
    return min(alpha, 1.0)


def cronbach_alpha(matrix: Sequence[Sequence[float]]) -> float | None:
    """Alpha (KR-20 for 0/1 scores) of a complete matrix: one row per attempt, one column
    per item, the same items in every row. None for fewer than two attempts or items."""
    if len(matrix) < 2:
        return None
    columns = list(zip(*matrix, strict=True))
    variances = [Moments.of(column).variance() for column in columns]
    totals = Moments.of([sum(row) for row in matrix]).variance()
    if any(v is None for v in variances):
        return None
    return reliability([v for v in variances if v is not None], totals)


def standard_error(sd: float | None, reliability_value: float | None) -> float | None:
    """The standard error of measurement, in the unit of ``sd``; None when either is
    unknown or the reliability is negative (the error would exceed the spread)."""
    if sd is None or reliability_value is None or reliability_value < 0:
        return None
    return sd * math.sqrt(1 - reliability_value)


def reliability_band(value: float | None) -> str | None:
    """``high`` (0.8 and above), ``acceptable`` (0.7), ``moderate`` (0.5), ``low``."""
    if value is None:
        return None
    if value >= 0.8:
        return "high"
    if value >= 0.7:
        return "acceptable"
    if value >= 0.5:
        return "moderate"
    return "low"


# Items -------------------------------------------------------------------------------


def facility(scores: Sequence[float], maximum: float = 1.0) -> float | None:
    """The mean score as a share of ``maximum``; None when nobody had the question."""
    found = mean(scores)
    return None if found is None else found / maximum


def item_rest_correlation(item: Sequence[float], totals: Sequence[float]) -> float | None:
    """The corrected point-biserial: r between the item's scores and the totals less the
    item, over the attempts that had the item (``item[i]`` belongs to ``totals[i]``)."""
    rest = [total - score for score, total in zip(item, totals, strict=True)]
    return correlation(CoMoments.of(item, rest))


def group_size(attempts: int) -> int:
    """How many attempts each of the upper and lower groups holds (27 %, at least one;
    rounded half up, as the database rounds)."""
    return max(1, int(GROUP_SHARE * attempts + 0.5))


def upper_lower_groups(totals: Sequence[float]) -> tuple[list[int], list[int]]:
    """The indexes of the upper and lower 27 % of ``totals``. Ties are broken by
    position (an earlier attempt ranks higher), so the groups never overlap."""
    if len(totals) < 2:
        return [], []
    ranked = sorted(range(len(totals)), key=lambda i: (-totals[i], i))
    size = group_size(len(totals))
    return ranked[:size], ranked[-size:]


def discrimination_index(upper: Moments, lower: Moments) -> float | None:
    """Facility in the upper group minus facility in the lower group (-1..1); None when
    either group had no attempt with the question."""
    if upper.mean is None or lower.mean is None:
        return None
    return upper.mean - lower.mean


def upper_lower_index(item: Sequence[float | None], totals: Sequence[float]) -> float | None:
    """The upper-lower index of one item; ``item[i]`` is the score of attempt ``i`` or
    None when that attempt did not draw the item."""
    upper, lower = upper_lower_groups(totals)

    def scores(group: list[int]) -> Moments:
        return Moments.of([v for i in group if (v := item[i]) is not None])

    return discrimination_index(scores(upper), scores(lower))


def flags(facility_value: float | None, discrimination: float | None) -> tuple[str, ...]:
    """What looks wrong with a question (codes of :data:`FLAGS`): the stronger learners
    do worse on it, or nearly everybody or nearly nobody gets it right."""
    found = []
    if discrimination is not None and discrimination < 0:
        found.append("negative_discrimination")
    if facility_value is not None and facility_value > TOO_EASY:
        found.append("too_easy")
    if facility_value is not None and facility_value < TOO_HARD:
        found.append("too_hard")
    return tuple(found)


# Scores ------------------------------------------------------------------------------


def score_bins(scores: Iterable[float], bins: int = 10) -> list[int]:
    """How many of ``scores`` (0..1) fall in each of ``bins`` equal bands; the last band
    includes a full score (0.9 <= s <= 1 for ten bands)."""
    counts = [0] * bins
    for score in scores:
        index = min(int(max(score, 0.0) * bins + 1e-9), bins - 1)
        counts[index] += 1
    return counts
