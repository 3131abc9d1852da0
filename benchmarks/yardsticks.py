"""The machine yardsticks: this machine's 1-thread matmul rate and random-read rate, and their unit mark.

They measure the machine, not the code: when one moves between two commits, the machine moved.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable

import numpy as np
import torch

from benchmarks.common import declared_mark, pin_threads
from benchmarks.timing import best_rate


def machine_yardstick(unit: str) -> Callable[[Callable], Callable]:
    """A figure of the machine, not the code (never a regression); marked by hand on commits before
    yardsticks existed (bb9dcf7)."""
    return declared_mark("machine_yardstick", unit, " [machine yardstick] (higher is better)")


MATMUL_SIZE = 1024


@functools.cache
def matmul_gflops() -> float:
    """This machine's 1-thread fp32 matmul rate (torch, 1024 x 1024): the yardstick for efficiency."""
    pin_threads()
    a = torch.randn(MATMUL_SIZE, MATMUL_SIZE, generator=torch.Generator().manual_seed(0))
    b = torch.randn(MATMUL_SIZE, MATMUL_SIZE, generator=torch.Generator().manual_seed(1))
    flops = 2 * MATMUL_SIZE**3 * 8
    return best_rate(flops, lambda: [a @ b for _ in range(8)], repeats=5) / 1e9


SERVING_MODEL_THREADS = 2  # the serving path's model threads: one embedding batcher, one NLI batcher


def concurrent_matmul_gflops(streams: int = SERVING_MODEL_THREADS, repeats: int = 9) -> float:
    """The machine's fp32 matmul rate with `streams` one-thread matmuls at once (torch releases the
    GIL), best of `repeats`: the yardstick for the serving path's load runs, read in each run.

    Not cached, since what it is for is the machine's speed at that moment. Two streams, as the
    serving path runs two model threads, and not one: beside a neighbour spinning a fifth of each
    vCPU the two-stream rate fell 16% and the one-stream rate not at all (load_yardstick_check.py).
    """
    a = torch.randn(MATMUL_SIZE, MATMUL_SIZE, generator=torch.Generator().manual_seed(0))
    b = torch.randn(MATMUL_SIZE, MATMUL_SIZE, generator=torch.Generator().manual_seed(1))
    products = 8

    def stream() -> None:
        for _ in range(products):
            torch.mm(a, b)

    def together() -> float:
        threads = [threading.Thread(target=stream) for _ in range(streams)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - started

    together()  # warm-up
    best = min(together() for _ in range(repeats))
    return 2 * MATMUL_SIZE**3 * products * streams / best / 1e9


# The memory yardstick's table: past the 32 MB last-level cache of the development VM's Zen 4, so
# its reads go to DRAM, as an HNSW walk over the 10K-50K tables does. Fixed, not sized to the host.
GATHER_TABLE_ELEMENTS = 16 * 2**20  # 64 MB of float32
GATHER_READS = 2**22


@functools.cache
def _gather_inputs() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    table = rng.random(GATHER_TABLE_ELEMENTS, dtype=np.float32)
    return table, rng.integers(0, GATHER_TABLE_ELEMENTS, GATHER_READS)


def random_read_mrate() -> float:
    """This machine's rate of random 4-byte reads from a 64 MB table (numpy gather, one thread), in
    millions per second: the yardstick for memory-bound work.

    On the development VM, timed in the same blocks as an HNSW query round trip, its rate followed
    the query's latency across blocks (correlation 0.88), which the matmul rate does not.
    """
    table, index = _gather_inputs()
    out = np.empty(GATHER_READS, dtype=np.float32)
    return best_rate(GATHER_READS, lambda: np.take(table, index, out=out), repeats=5) / 1e6
