"""Shared by every benchmark module: the sampling base classes, one pinned thread, the settings.

asv runs `setup` before every repeat and forks a process per benchmark, so anything expensive is
cached at module level (paid once per process: `benchmarks.models`) or measured once per run and
shared (`benchmarks.run_cache`). Beside them: `database` (the DSN and the benchmark schemas'
lifecycle), `timing` (latencies, percentiles, rates), `yardsticks` (the machine's matmul and
random-read rates, and their unit mark) and `memory` (memory by phase).

The suite in the working tree runs against *older* commits too: a benchmark may only call what
those commits' `veracity` has, or go through a shim that falls back for them.
"""

from __future__ import annotations

import os

# Before torch is imported anywhere: one thread unless a benchmark is about threads.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import functools
import sys
from collections.abc import Callable

# Imported here, not in the benchmarks: asv's forkserver imports this module once and forks every
# benchmark process from it, so the 5 s these imports cost are paid once per run, not per process.
import sentence_transformers  # noqa: F401
import torch
import transformers  # noqa: F401

from veracity.config import Settings

# How asv_runner was started in this interpreter: "run_server" (the forkserver every benchmark is
# forked from), "discover", "setup_cache", "run" (spawn launch method), or "" outside asv.
ASV_ROLE = sys.argv[1] if len(sys.argv) > 1 and sys.argv[0].endswith("benchmark.py") else ""


class Timed:
    """Sampling for `time_*` benchmarks of model calls (tens of ms to a second per call).

    Two rounds of 4-10 samples keep each benchmark near 10 s at most, so the whole suite fits the
    10-minute budget per commit while leaving enough samples for the statistical test. `--quick`
    takes one sample of each.
    """

    rounds = 2
    repeat = (4, 10, 4.0)
    warmup_time = 0.2
    timeout = 60


class Tracked:
    """`track_*` benchmarks measure themselves; one round is one value."""

    rounds = 1
    repeat = 1
    warmup_time = 0
    timeout = 120


def pin_threads(threads: int = 1) -> None:
    """Pin torch (and through OMP, numpy's BLAS) to `threads` threads for steady timings."""
    torch.set_num_threads(threads)


def require_cuda() -> None:
    """Skip (asv shows `n/a`) a CUDA variant where no GPU is present."""
    if not torch.cuda.is_available():
        raise NotImplementedError("no CUDA GPU on this machine")


def declared_mark(name: str, unit: str, suffix: str) -> Callable[[Callable], Callable]:
    """The unit-marking decorator `veracity.tracking.direction.<name>(unit)`, or, on a commit whose
    `veracity` predates it, one that writes the same unit by hand (`unit + suffix`): without it every
    benchmark of a module that uses the mark fails to import against that commit."""
    from veracity.tracking import direction

    declared = getattr(direction, name, None)
    if declared is not None:
        return declared(unit)

    def mark(benchmark: Callable) -> Callable:
        benchmark.unit = unit + suffix  # type: ignore[attr-defined]
        return benchmark

    return mark


def descriptive(unit: str) -> Callable[[Callable], Callable]:
    """A figure with no better side (a stage's share): shown and graphed, never judged."""
    return declared_mark("descriptive", unit, " [descriptive]")


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


pin_threads()
