"""Small, dependency-free statistics for benchmark samples: medians and the Mann-Whitney U test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

# Above this many samples on both sides together the normal approximation is used.
_EXACT_LIMIT = 40


def median(values: Sequence[float]) -> float:
    """The median of a non-empty sequence."""
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        raise ValueError("median of no values")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@lru_cache(maxsize=256)
def _u_distribution(n1: int, n2: int) -> tuple[int, ...]:
    """Counts of each U value over all arrangements of n1 + n2 distinct samples."""
    # counts[i][j] is the distribution for i and j samples; built row by row.
    prev = [(1,) for _ in range(n2 + 1)]  # i = 0: U is 0 whatever j
    for i in range(1, n1 + 1):
        cur: list[tuple[int, ...]] = [(1,)]  # j = 0
        for j in range(1, n2 + 1):
            a = cur[j - 1]  # last sample is from the second group: U unchanged
            b = prev[j]  # last sample is from the first group: U grows by j
            size = i * j + 1
            out = [0] * size
            for u, c in enumerate(a):
                out[u] += c
            for u, c in enumerate(b):
                out[u + j] += c
            cur.append(tuple(out))
        prev = cur
    return prev[n2]


def mann_whitney_p(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value that `a` and `b` come from the same distribution.

    Exact (permutation distribution) for small samples without ties, otherwise the normal
    approximation with tie and continuity corrections. Returns 1.0 when either side is empty.
    """
    n1, n2 = len(a), len(b)
    if n1 == 0 or n2 == 0:
        return 1.0
    pooled = sorted([(x, 0) for x in a] + [(x, 1) for x in b])
    ranks = [0.0] * len(pooled)
    tie_term = 0.0
    i = 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        rank = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[k] = rank
        t = j - i + 1
        tie_term += t**3 - t
        i = j + 1
    r1 = sum(r for r, (_, g) in zip(ranks, pooled, strict=True) if g == 0)
    u1 = r1 - n1 * (n1 + 1) / 2
    u = min(u1, n1 * n2 - u1)
    if tie_term == 0 and n1 + n2 <= _EXACT_LIMIT:
        dist = _u_distribution(n1, n2)
        total = sum(dist)
        tail = sum(dist[: math.floor(u) + 1])
        return min(1.0, 2 * tail / total)
    n = n1 + n2
    var = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)))
    if var <= 0:
        return 1.0
    z = (abs(u1 - n1 * n2 / 2) - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(max(z, 0.0) / math.sqrt(2)))


def relative_spread(values: Sequence[float]) -> float:
    """Largest ratio between two of `values`, minus one (0.0 for fewer than two positive values)."""
    positive = [v for v in values if v > 0 and math.isfinite(v)]
    if len(positive) < 2:
        return 0.0
    return max(positive) / min(positive) - 1


# The 5% quantiles of chi-square with 1..30 degrees of freedom (scipy.stats.chi2.ppf(0.05, k)).
# fmt: off
_CHI2_LOWER_5PCT = (
    0.003932, 0.102587, 0.351846, 0.710723, 1.145476, 1.635383, 2.167350, 2.732637, 3.325113, 3.940299,
    4.574813, 5.226029, 5.891864, 6.570631, 7.260944, 7.961646, 8.671760, 9.390455, 10.117013, 10.850811,
    11.591305, 12.338015, 13.090514, 13.848425, 14.611408, 15.379157, 16.151396, 16.927875, 17.708366, 18.492661,
)
# fmt: on


def sd_upper_limit_factor(dof: int) -> float:
    """How many times its estimate a standard deviation may be, at 95% confidence, when it was estimated with
    `dof` degrees of freedom: sqrt(dof / chi2_0.05(dof)); 2.92 from 4 runs (3 dof), 2.09 from 6; inf below 1.

    Past 30 dof the quantile is Wilson and Hilferty's cube of a normal one (within 0.1% there).
    """
    if dof < 1:
        return math.inf
    if dof <= len(_CHI2_LOWER_5PCT):
        quantile = _CHI2_LOWER_5PCT[dof - 1]
    else:
        z = -1.6448536269514722
        quantile = dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3
    return math.sqrt(dof / quantile)


def log_std(values: Sequence[float]) -> float:
    """Sample standard deviation of log(values): the coefficient of variation for small spreads."""
    logs = [math.log(v) for v in values if v > 0 and math.isfinite(v)]
    if len(logs) < 2:
        return 0.0
    mean = sum(logs) / len(logs)
    return math.sqrt(sum((x - mean) ** 2 for x in logs) / (len(logs) - 1))


def _incomplete_beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny, eps = 1e-300, 3e-16
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    out = d
    for m in range(1, 300):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            out *= d * c
        if abs(d * c - 1) < eps:
            break
    return out


def regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function, for x in [0, 1]."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(log_front) * _incomplete_beta_fraction(a, b, x) / a
    return 1 - math.exp(log_front) * _incomplete_beta_fraction(b, a, 1 - x) / b


def student_t_two_sided_p(t: float, df: int) -> float:
    """P(|T| >= |t|) for Student's t with `df` degrees of freedom."""
    if not math.isfinite(t):
        return 0.0
    return regularized_beta(df / 2, 0.5, df / (df + t * t))


def student_t_quantile(probability: float, df: int) -> float:
    """The t with P(T <= t) = `probability` (in (0.5, 1)), by bisection on the two-sided p."""
    tail = 2 * (1 - probability)
    low, high = 0.0, 1.0
    while student_t_two_sided_p(high, df) > tail:
        high *= 2
    for _ in range(100):
        mid = (low + high) / 2
        if student_t_two_sided_p(mid, df) > tail:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float, float]:
    """(mean, half-width of its two-sided t-interval at `confidence`, two-sided p of mean = 0).

    Needs at least two values. Identical values give a half-width of 0 and p 0 (or 1 at a mean of 0).
    """
    n = len(values)
    if n < 2:
        raise ValueError("an interval needs at least two values")
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    if sd == 0:
        return mean, 0.0, 1.0 if mean == 0 else 0.0
    se = sd / math.sqrt(n)
    half = student_t_quantile(1 - (1 - confidence) / 2, n - 1) * se
    return mean, half, student_t_two_sided_p(mean / se, n - 1)
