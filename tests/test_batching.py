"""Length-sorted dynamic batches: every index once, at most `max_batch` each, and the cheapest cuts."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veracity.pipeline.batching import fixed_batches, length_sorted_batches


def plan_cost(batches: list[np.ndarray], lengths: np.ndarray, overhead: int) -> int:
    return sum(len(b) * int(lengths[b].max()) + overhead for b in batches)


def brute_force_cost(lengths: np.ndarray, max_batch: int, overhead: int) -> int:
    """The cheapest cut of the sorted lengths, by trying every set of cut points."""
    ordered = sorted(lengths.tolist(), reverse=True)
    n = len(ordered)
    best = None
    for mask in itertools.product([False, True], repeat=n - 1):
        cuts = [0] + [i + 1 for i, cut in enumerate(mask) if cut] + [n]
        sizes = [b - a for a, b in itertools.pairwise(cuts)]
        if max(sizes) > max_batch:
            continue
        cost = sum((b - a) * ordered[a] + overhead for a, b in itertools.pairwise(cuts))
        best = cost if best is None else min(best, cost)
    return best


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(1, 300), min_size=1, max_size=10),
    st.integers(1, 6),
    st.sampled_from([0, 1, 32, 500]),
)
def test_plan_covers_every_index_once_within_the_batch_limit_at_the_cheapest_cost(
    lengths: list[int], max_batch: int, overhead: int
) -> None:
    lengths_array = np.array(lengths)
    batches = length_sorted_batches(lengths_array, max_batch, overhead)
    assert sorted(np.concatenate(batches).tolist()) == list(range(len(lengths)))
    assert all(1 <= len(b) <= max_batch for b in batches)
    flat = np.concatenate(batches)
    assert (np.diff(lengths_array[flat]) <= 0).all()  # longest first, so order can be restored
    assert plan_cost(batches, lengths_array, overhead) == brute_force_cost(lengths_array, max_batch, overhead)


def test_mixed_lengths_pay_far_less_padding_than_fixed_sorted_batches() -> None:
    rng = np.random.default_rng(0)
    lengths = np.concatenate([rng.integers(20, 60, 40), rng.integers(80, 160, 24)])
    order = np.argsort(-lengths, kind="stable")
    fixed = plan_cost(fixed_batches(order, 16), lengths, 0)
    dynamic = length_sorted_batches(lengths, 16, 32)
    padded = plan_cost(dynamic, lengths, 0)
    assert padded < fixed
    assert padded <= 1.08 * lengths.sum()  # within 8% of no padding at all


def test_a_huge_overhead_gives_fewest_batches_and_zero_gives_equal_lengths() -> None:
    lengths = np.array([5, 9, 9, 3, 7, 7, 7, 1])
    fewest = length_sorted_batches(lengths, 3, 10**9)
    assert [lengths[b].tolist() for b in fewest] == [[9, 9], [7, 7, 7], [5, 3, 1]]  # 3 batches, least padding
    equal = length_sorted_batches(lengths, 8, 0)
    assert all(len(set(lengths[b].tolist())) == 1 for b in equal)


def test_a_batch_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_batch"):
        length_sorted_batches(np.array([3]), 0, 32)
