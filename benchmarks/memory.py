"""Memory by phase, measured so that the same code gives the same figure (within 5% A/A).

A phase's resident growth, read naively (RSS sampled before and during the phase in the benchmark
process), moved x4-x10 between identical runs: glibc's allocator decides from the process's history
whether a buffer reuses memory an earlier phase freed (no growth) or maps fresh pages (growth); its
mmap threshold rises after the first large free; per-thread arenas come and go; and a sampler every
5 ms misses peaks that last less. So each figure here is measured:

- in a fresh interpreter that runs one pipeline run in a fixed order (`benchmarks.memory_child`),
  so no phase inherits what the asv forkserver or another benchmark allocated;
- under fixed allocator settings (`MEASURE_ENV`: one arena, a fixed mmap threshold, free memory
  returned at once) and a fixed hash seed, after a collection and `malloc_trim`;
- as an exact peak: the kernel's high-water mark (`VmHWM`), reset just before the phase, not a sample;
- or, for phases whose memory is Python objects and numpy arrays a few MB in size, where resident
  pages still wander by 10% between identical runs, as traced allocations (tracemalloc's peak, which
  numpy's buffers report to). `PHASES` says which figure each phase is; docs/benchmark-suite.md why.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc
import json
import os
import re
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

# How each phase of a pipeline run is measured: "resident" (kernel high-water mark over the RSS
# before) where native buffers (weights, activations) dominate, "traced" (tracemalloc peak) where
# Python objects and numpy arrays do and resident pages do not repeat.
PHASES = {
    "load_embedder": "resident",
    "load_nli": "resident",
    "corpus_vectors": "traced",
    "load_store": "traced",
    "verify_40_claims": "resident",
}

# glibc malloc with one arena, a fixed mmap threshold (the default one moves up to 32 MiB after the
# first large free) and free memory trimmed at once, so resident memory follows what is live.
ALLOCATOR_TUNABLES = "glibc.malloc.arena_max=1:glibc.malloc.mmap_threshold=131072:glibc.malloc.trim_threshold=131072"
MEASURE_ENV = {"GLIBC_TUNABLES": ALLOCATOR_TUNABLES, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
CHILD_TIMEOUT_S = 240
REPO_ROOT = Path(__file__).resolve().parents[1]

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
_FIXED_THRESHOLD = 128 * 1024


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """glibc, for malloc_trim and mallopt; None on another C library (the figures are then less steady)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim, libc.mallopt  # noqa: B018  (glibc only)
    except (OSError, AttributeError, TypeError):
        return None
    return libc


def fix_allocator() -> None:
    """In a running process, what `ALLOCATOR_TUNABLES` does for a fresh one: fixed mmap and trim thresholds."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, _FIXED_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, _FIXED_THRESHOLD)
        libc.mallopt(_M_ARENA_MAX, 1)


def _settle() -> None:
    """Collect garbage and hand every free page back, so no phase starts on memory an earlier one freed."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def _status_bytes(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"/proc/self/status has no {field}: resident memory by phase needs Linux")
    return int(match.group(1)) * 1024


def resident_peak_bytes(fn: Callable[[], object]) -> int:
    """Peak resident memory `fn` adds above the RSS just before it: the kernel's exact high-water mark.

    Writing 5 to /proc/self/clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so the peak is
    the kernel's own, however briefly it lasted, not a sample.
    """
    _settle()
    before = _status_bytes("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")
    fn()
    return max(0, _status_bytes("VmHWM") - before)


def traced_peak_bytes(fn: Callable[[], object]) -> int:
    """Peak of the bytes `fn` holds in Python objects and numpy buffers at once (tracemalloc), above its start."""
    _settle()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return max(0, peak - start)


def phase_peak_bytes(fn: Callable[[], object]) -> int:
    """Peak resident memory one call of `fn` adds in this (benchmark) process, allocator fixed first.

    For a call after a warm-up (one batch through a loaded model): its buffers are the same every time,
    so fixing the allocator and trimming before it leaves only what the call itself touches.
    """
    fix_allocator()
    return resident_peak_bytes(fn)


def run_child(what: str) -> dict[str, int]:
    """{phase: bytes} from a fresh interpreter (`benchmarks.memory_child WHAT`): `embedding` or `nli`
    (that model's load), `pipeline` (every phase of one run) or `batches` (a warm batch per model)."""
    env = dict(os.environ, **MEASURE_ENV)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory_child", what],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the memory-by-phase process failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return {phase: int(value) for phase, value in json.loads(done.stdout.strip().splitlines()[-1]).items()}


def subprocess_load_bytes(which: str) -> int:
    """Peak resident bytes loading the `embedding` or `nli` model adds in a fresh interpreter, once per run.

    Shared by the model-load tracks of the embedding, NLI and pipeline suites.
    """
    from benchmarks.run_cache import once_per_run  # imports torch: not needed by the measuring helpers

    phase = "load_embedder" if which == "embedding" else "load_nli"
    return int(once_per_run(f"memory.model_load:{which}", lambda: run_child(which))[phase])


def batch_bytes(phase: str) -> int:
    """Peak resident bytes one warm batch adds (`encode_batch`: 64 short texts; `predict_batch`: 16
    pairs), measured once per run in a fresh interpreter after a warm-up batch."""
    from benchmarks.run_cache import once_per_run

    return int(once_per_run("memory.batches", lambda: run_child("batches"))[phase])


def pipeline_phase_bytes() -> dict[str, int]:
    """What each phase of one pipeline run adds (`PHASES`), the model loads each in its own interpreter.

    Measured once per asv run and shared by the parameters of `PipelineMemory.track_phase_bytes`.
    """
    from benchmarks.run_cache import once_per_run

    phases = once_per_run("memory.pipeline_phases", lambda: run_child("pipeline"))
    return {**phases, "load_embedder": subprocess_load_bytes("embedding"), "load_nli": subprocess_load_bytes("nli")}
