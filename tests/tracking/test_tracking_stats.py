"""Mann-Whitney U against known exact values, and the noise-band estimate."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from veracity.tracking.noise import MIN_BAND, estimate_band
from veracity.tracking.stats import mann_whitney_p, median


def test_exact_p_values_match_the_permutation_distribution() -> None:
    assert mann_whitney_p([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(2 / 252)
    assert mann_whitney_p([1, 2, 3], [4, 5, 6]) == pytest.approx(0.1)


def test_identical_samples_are_not_different() -> None:
    assert mann_whitney_p([1.0] * 5, [1.0] * 5) == 1.0


def test_large_samples_use_the_normal_approximation() -> None:
    a = [float(i) for i in range(30)]
    assert mann_whitney_p(a, [x + 100 for x in a]) < 1e-8
    assert mann_whitney_p(a, a) > 0.9


def test_median() -> None:
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5


finite = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False)


@given(st.lists(finite, min_size=1, max_size=25), st.lists(finite, min_size=1, max_size=25))
def test_p_value_is_a_probability(a: list[float], b: list[float]) -> None:
    assert 0.0 <= mann_whitney_p(a, b) <= 1.0


def test_band_covers_the_widest_aa_ratio_seen() -> None:
    band = estimate_band("k", [1.0, 1.1, 0.95])
    assert band.band >= 1.1 / 0.95 - 1
    assert band.runs == 3


def test_band_has_a_floor() -> None:
    assert estimate_band("k", [1.0, 1.0, 1.0]).band == MIN_BAND
