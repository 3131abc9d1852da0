"""Shared by every benchmark module: one pinned thread, models and data cached per process, the database.

asv runs `setup` before every repeat and forks a process per benchmark, so anything expensive is
cached here at module level (paid once per process) or prepared in `setup_cache` (once per run).

The suite in the working tree runs against *older* commits too: a benchmark may only call what
those commits' `veracity` has, or go through a shim here that falls back for them.
"""

from __future__ import annotations

import os

# Before torch is imported anywhere: one thread unless a benchmark is about threads.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import fcntl
import functools
import gc
import hashlib
import json
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import psutil

# Imported here, not in the benchmarks: asv's forkserver imports this module once and forks every
# benchmark process from it, so the 5 s these imports cost are paid once per run, not per process.
import sentence_transformers  # noqa: F401
import torch
import transformers  # noqa: F401

from veracity.config import DEFAULT_NLI_MODEL, Settings
from veracity.data import load_claims, load_corpus, load_nli_pairs

MATMUL_SIZE = 1024
# The forward passes the backend benchmarks compare (EncodeBackends, NliBackends).
BENCH_BACKENDS = ["torch", "onnx-fp32", "fast"]
PERCENTILES = (50, 95, 99)
RUN_MEMO_STALE_S = 6 * 3600
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


@functools.cache
def settings() -> Settings:
    return Settings.from_env()


def machine_yardstick(unit: str) -> Callable[[Callable], Callable]:
    """`veracity.tracking.direction.machine_yardstick`, or the same unit mark by hand on commits
    before yardsticks existed (bb9dcf7): without this shim every benchmark of a module that declares
    a yardstick failed to import against those commits."""
    try:
        from veracity.tracking.direction import machine_yardstick as declared
    except ImportError:

        def declared(unit: str) -> Callable[[Callable], Callable]:
            def mark(benchmark: Callable) -> Callable:
                benchmark.unit = unit + " [machine yardstick] (higher is better)"  # type: ignore[attr-defined]
                return benchmark

            return mark

    return declared(unit)


def default_backend(device: str = "cpu") -> str:
    """The forward pass the product runs by default (`auto`); PyTorch on commits before backends existed."""
    try:
        from veracity.config import effective_backend
    except ImportError:
        return "torch"
    return effective_backend(settings().embedding_backend, device)


@functools.cache
def embedder(device: str = "cpu", backend: str | None = None):
    """The embedder with the product's default forward pass, or `backend` (torch, onnx-fp32, fast, ...).

    Raises NotImplementedError (asv shows n/a) for a backend the benchmarked commit does not have.
    """
    from veracity.pipeline.embedding import Embedder

    pin_threads()  # before an ONNX session is made: it takes torch's thread count
    chosen = backend or default_backend(device)
    common = {"device": device, "batch_size": settings().embedding_batch_size}
    try:
        return Embedder(settings().embedding_model, backend=chosen, cache_dir=settings().cache_dir, **common)
    except TypeError:  # a commit before the ONNX backends: PyTorch only
        if chosen != "torch":
            raise NotImplementedError(f"this commit has no {chosen!r} embedding backend") from None
        return Embedder(settings().embedding_model, **common)


@functools.cache
def nli_model(device: str = "cpu", backend: str | None = None):
    """The NLI model with the product's default forward pass, or `backend`; NotImplementedError as above."""
    from veracity.pipeline.session import load_nli

    pin_threads()
    if backend is None:
        return load_nli(settings().with_overrides(device=device))
    try:
        chosen = settings().with_overrides(device=device, nli_backend=backend)
    except TypeError:  # Settings without backends: a commit before them
        if backend != "torch":
            raise NotImplementedError(f"this commit has no {backend!r} NLI backend") from None
        chosen = settings().with_overrides(device=device)
    return load_nli(chosen)


# --- seeded text sets: identical on every machine ----------------------------------------------


@functools.cache
def short_texts(n: int) -> tuple[str, ...]:
    """`n` short claim-like texts (about 15-25 tokens), cycling through the shipped claims."""
    claims = [c.claim for c in load_claims()]
    return tuple(claims[i % len(claims)] for i in range(n))


@functools.cache
def long_texts(n: int) -> tuple[str, ...]:
    """The `n` longest passages of the corpus, multi-sentence texts of about 80-130 tokens."""
    passages = sorted((p.text for p in load_corpus()), key=lambda text: (-len(text), text))
    return tuple(passages[:n])


@functools.cache
def mixed_pairs(n: int, seed: int = 0) -> tuple[tuple[str, str], ...]:
    """`n` (premise, hypothesis) pairs of mixed length in a seeded random order: padding matters here."""
    rng = np.random.default_rng(seed)
    passages = [p.text for p in load_corpus()]
    claims = [c.claim for c in load_claims()]
    pairs = []
    for i in range(n):
        premise = passages[int(rng.integers(len(passages)))]
        if i % 3 == 0:  # a third long: two passages joined, as a cross-encoder sees multi-sentence evidence
            premise = f"{premise} {passages[int(rng.integers(len(passages)))]}"
        pairs.append((premise, claims[int(rng.integers(len(claims)))]))
    return tuple(pairs)


@functools.cache
def held_out_pairs() -> tuple:
    return tuple(load_nli_pairs("test"))


# --- measured once per asv run, shared by the run's benchmark processes ----------------------------


@functools.cache
def run_token() -> str:
    """Names one `asv run` of one commit in one environment, as seen from a benchmark process.

    asv forks every benchmark process from one forkserver per commit and environment, so the
    parent's pid and start time identify the run; the install time of the `veracity` package
    separates commits where asv's spawn launch method makes the parent asv itself. This replaces
    `setup_cache`, which asv runs in a fresh interpreter (imports and model loads, ~5-10 s each)
    and runs whether or not `--bench` selected any of its class's parameter sets.
    """
    import veracity

    parent = psutil.Process(os.getppid())
    installed = Path(veracity.__file__).stat().st_mtime_ns
    raw = f"{parent.pid}:{parent.create_time()}:{installed}:{sys.prefix}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def _memo_dir(token: str) -> Path:
    root = settings().cache_dir / "bench-runs"
    path = root / token
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        for old in root.iterdir():  # runs that ended hours ago: their processes are gone
            if old != path and time.time() - old.stat().st_mtime > RUN_MEMO_STALE_S:
                shutil.rmtree(old, ignore_errors=True)
    return path


def _memo(
    directory: Path,
    name: str,
    compute: Callable[[], dict[str, Any]],
    valid: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    key = hashlib.sha256(name.encode()).hexdigest()[:16]
    target = directory / f"{key}.json"
    with open(directory / f"{key}.lock", "a") as lock:  # one lock per name: computes may nest
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if target.is_file():
                value = json.loads(target.read_text())["value"]
                if valid is None or valid(value):
                    return value
            value = compute()
            partial = target.with_suffix(".partial")
            partial.write_text(json.dumps({"name": name, "value": value}))
            os.replace(partial, target)
            return value
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def once_per_run(name: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`compute()` the first time any benchmark process of this run asks for `name`; its JSON after.

    For measurements that are expensive and feed several cheap `track_*` values (a latency
    distribution, a grid row, a pass over the claim set): the first benchmark that needs one pays
    for it inside its own forked process, which already holds the models. A lock file per name
    serialises concurrent askers; the value is written atomically, so an interrupted run leaves no half entry.
    """
    return _memo(_memo_dir(run_token()), name, compute)


@functools.cache
def invocation_owner() -> psutil.Process:
    """The `asv run` process behind this benchmark process: it lives through every round and commit.

    A benchmark process is forked from a forkserver (`benchmark.py run_server`), whose parent is
    asv; under asv's spawn launch method the parent is asv itself.
    """
    parent = psutil.Process(os.getppid())
    try:
        is_forkserver = "run_server" in parent.cmdline()
    except psutil.Error:
        is_forkserver = False
    return (parent.parent() or parent) if is_forkserver else parent


@functools.cache
def code_identity() -> str:
    """A hash of the installed `veracity` package's source: commits with byte-identical code share it."""
    import veracity

    root = Path(veracity.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def once_per_invocation(
    name: str, compute: Callable[[], dict[str, Any]], valid: Callable[[dict[str, Any]], bool] | None = None
) -> dict[str, Any]:
    """As `once_per_run`, but shared by every round and commit of one `asv run` invocation.

    For artefacts that only the code builds, such as a loaded and indexed table: put
    `code_identity()` in `name`, so commits with identical code (an A/A twin, a later round of the
    same commit) reuse it and any change builds its own. `valid` re-checks a remembered value
    (the table may have been dropped since); a value that fails it is computed again.
    """
    owner = invocation_owner()
    raw = f"invocation:{owner.pid}:{owner.create_time()}:{sys.prefix}"
    return _memo(_memo_dir(hashlib.sha256(raw.encode()).hexdigest()[:12]), name, compute, valid)


# --- measurement helpers ---------------------------------------------------------------------------


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


@functools.cache
def matmul_gflops() -> float:
    """This machine's 1-thread fp32 matmul rate (torch, 1024 x 1024): the yardstick for efficiency."""
    pin_threads()
    a = torch.randn(MATMUL_SIZE, MATMUL_SIZE, generator=torch.Generator().manual_seed(0))
    b = torch.randn(MATMUL_SIZE, MATMUL_SIZE, generator=torch.Generator().manual_seed(1))
    flops = 2 * MATMUL_SIZE**3 * 8
    return best_rate(flops, lambda: [a @ b for _ in range(8)], repeats=5) / 1e9


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


def phase_peak_bytes(fn: Callable[[], object]) -> int:
    """Peak resident memory added while `fn` runs, above the process's RSS just before (memory-profiler)."""
    from memory_profiler import memory_usage

    gc.collect()
    baseline = memory_usage(-1, interval=0.01, timeout=0.05, max_usage=True)
    peak = memory_usage((fn, (), {}), interval=0.005, max_usage=True, include_children=False)
    return int(max(0.0, peak - baseline) * 1024 * 1024)


def keep_table(store) -> None:
    """Disconnect a loaded PgVectorStore but keep its schema for benchmark processes to attach to.

    `PgVectorStore.detach` exists from commit 3967b50 on; for older commits, closing the
    connection does the same (their `close()` would drop the schema).
    """
    detach = getattr(store, "detach", None)
    if detach is not None:
        detach()
    else:
        store._conn.close()


def database_dsn() -> str:
    """VERACITY_DATABASE_URL (set by `make bench` to the server it started), else the embedded server."""
    url = os.environ.get("VERACITY_DATABASE_URL")
    if url:
        return url
    return _embedded_dsn()


@functools.cache
def _embedded_dsn() -> str:
    from veracity.db.server import EmbeddedServer

    # Kept running: asv forks and `_exit`s benchmark processes, so no handle would ever be released
    # cleanly; `make bench` (or `veracity db stop`) stops it when the run is over.
    return EmbeddedServer(settings().cache_dir, keep_running=True).start()


def _preload_models() -> None:
    """Load both CPU models in the parent process, so forked benchmark processes start with them.

    Only a cached NLI model is loaded: building one takes minutes (`make bench` builds it before
    asv starts). Any failure is left for the benchmark's own `setup` to report.
    """
    from veracity.pipeline.nli_training import TrainingConfig, cache_key, model_dir

    default_cached = model_dir(settings().cache_dir, cache_key(TrainingConfig())).is_dir()
    try:
        embedder()
        if settings().nli_model != DEFAULT_NLI_MODEL or default_cached:
            nli_model()
    except Exception:
        pass


pin_threads()
if ASV_ROLE in ("run_server", ""):  # not when asv merely discovers the suite
    _preload_models()
