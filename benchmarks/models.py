"""The models and the seeded text sets, loaded once per process; in asv's forkserver at import.

The stage modules that use a model import this one, and asv's forkserver imports every benchmark
module before it forks ("preimport"), so the server loads both CPU models once (as does a script
outside asv) and every benchmark process is forked with them loaded.
"""

from __future__ import annotations

import functools

import numpy as np

from benchmarks.common import ASV_ROLE, pin_threads, settings
from veracity.config import DEFAULT_NLI_MODEL
from veracity.data import load_claims, load_corpus, load_nli_pairs

# The forward passes the backend benchmarks compare (EncodeBackends, NliBackends).
BENCH_BACKENDS = ["torch", "onnx-fp32", "fast"]


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


if ASV_ROLE in ("run_server", ""):  # not when asv merely discovers the suite
    _preload_models()
