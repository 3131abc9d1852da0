"""Timing helpers: wall times of single calls and their percentiles, and the best rate of a few calls."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np

PERCENTILES = (50, 95, 99)


def latencies_ms(fn: Callable[[], object], repeats: int, warmup: int = 2) -> np.ndarray:
    """Wall time of `repeats` calls of `fn` in milliseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        fn()
        samples[i] = (time.perf_counter() - start) * 1000.0
    return samples


def percentiles(samples: Sequence[float] | np.ndarray) -> dict[str, float]:
    """p50, p95 and p99 of `samples`, keyed "p50", "p95", "p99"."""
    return {f"p{q}": float(np.percentile(np.asarray(samples), q)) for q in PERCENTILES}


def best_rate(work: float, fn: Callable[[], object], repeats: int = 3) -> float:
    """`work` divided by the fastest of `repeats` calls of `fn` (after one warm-up call)."""
    fn()
    best = min(_timed(fn) for _ in range(repeats))
    return work / best


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
