"""Assembles a ready Verifier from Settings: models, cached corpus embeddings, database and store."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from veracity.config import DEFAULT_NLI_MODEL, Settings, effective_backend
from veracity.data import load_corpus
from veracity.db.server import database
from veracity.fsutil import atomic_writer, ensure_writable_dir
from veracity.pipeline.embedding import Embedder
from veracity.pipeline.evidence import EvidenceUnit, evidence_units
from veracity.pipeline.nli import NliModel
from veracity.pipeline.nli_training import build_default_nli
from veracity.pipeline.store import ExactNumpyStore, IndexSpec, VectorStore
from veracity.pipeline.verify import Verifier, corpus_fingerprint, embed_units


def load_embedder(settings: Settings, *, show_progress: bool = False) -> Embedder:
    """The configured embedder; an ONNX backend is exported (and cached) on first use."""
    return Embedder(
        settings.embedding_model,
        device=settings.device,
        batch_size=settings.embedding_batch_size,
        backend=effective_backend(settings.embedding_backend, settings.device),
        cache_dir=settings.cache_dir,
        show_progress=show_progress,
    )


def load_nli(settings: Settings, *, show_progress: bool = False) -> NliModel:
    """The configured NLI model; the default one is built (and cached) on first use."""
    name = settings.nli_model
    if name == DEFAULT_NLI_MODEL:
        name = str(build_default_nli(settings.cache_dir, show_progress=show_progress).path)
    return NliModel(
        name,
        device=settings.device,
        batch_size=settings.nli_batch_size,
        backend=effective_backend(settings.nli_backend, settings.device),
        cache_dir=settings.cache_dir,
        show_progress=show_progress,
    )


def prepare_first_use(settings: Settings, *, force: bool = False, show_progress: bool = False) -> list[str]:
    """Build, once and cached, everything a first `verify` or benchmark would otherwise build inside
    it: the default NLI model (trained), the ONNX graphs of the configured backends, and the corpus
    embeddings. Returns what was done, a line each. `make install` and asv's install step run this.
    """
    lines = []
    if settings.nli_model == DEFAULT_NLI_MODEL or force:
        report = build_default_nli(settings.cache_dir, force=force, show_progress=show_progress)
        state = f"built in {report.seconds:.0f} s" if report.built else "cached"
        lines += [
            f"NLI model {state}: {report.path}",
            f"held-out accuracy {report.test_accuracy:.3f} on {report.test_pairs} pairs from template groups "
            f"unseen in training ({report.train_pairs} training pairs; the project's own synthetic set)",
        ]
    embedder = load_embedder(settings, show_progress=show_progress)
    models = [("embedding", embedder)]
    if effective_backend(settings.nli_backend, settings.device) != "torch":
        models.append(("NLI", load_nli(settings, show_progress=show_progress)))
    for what, model in models:
        info = model.backend_info
        if info.resolved != "torch":
            lines.append(f"{what} backend {info.requested}: {info.resolved} ({info.precision}) ready")
    vectors = cached_corpus_vectors(embedder, settings.cache_dir, show_progress=show_progress)
    lines.append(f"corpus embeddings ready: {vectors.shape[0]} evidence units x {vectors.shape[1]}")
    return lines


@functools.cache
def corpus_units() -> tuple[EvidenceUnit, ...]:
    """The shipped corpus as evidence units (titled sentences), split once per process."""
    return tuple(evidence_units(load_corpus()))


def cached_corpus_vectors(embedder: Embedder, cache_dir: Path, *, show_progress: bool = False) -> np.ndarray:
    """Embeddings of every evidence unit from the cache, computed and saved atomically when missing."""
    units = corpus_units()
    folder = ensure_writable_dir(cache_dir / "embeddings", "embedding cache")
    path = folder / f"corpus-{corpus_fingerprint(embedder, units)}.npy"
    if path.is_file():
        try:
            vectors = np.load(path, allow_pickle=False)
            if vectors.shape == (len(units), embedder.dim):
                return vectors
        except (OSError, ValueError):
            pass  # a damaged cache file is rebuilt below
    vectors = embed_units(embedder, units, show_progress=show_progress)
    with atomic_writer(path, "wb") as handle:
        np.save(handle, vectors, allow_pickle=False)
    return vectors


@contextlib.contextmanager
def open_store(settings: Settings, vectors: np.ndarray, spec: IndexSpec | None = None) -> Iterator[VectorStore]:
    """The corpus loaded into the configured store; its schema and server are cleaned up afterwards."""
    ids = np.arange(len(vectors), dtype=np.int64)
    if settings.store == "numpy":
        store = ExactNumpyStore()
        store.load(ids, vectors)
        yield store
        return
    from veracity.pipeline.pgvector_store import PgVectorStore

    spec = spec or IndexSpec(kind=settings.index)
    with (
        database(settings.database_url, settings.cache_dir) as target,
        PgVectorStore(target.dsn, vectors.shape[1], spec) as store,
    ):
        store.load(ids, vectors)
        yield store


@contextlib.contextmanager
def open_pipeline(settings: Settings, *, show_progress: bool = False) -> Iterator[Verifier]:
    """A Verifier over the shipped corpus, ready to answer claims.

    The cheap checks come first (cache directory, database), so a bad DSN or an unwritable cache
    fails in a second rather than after the models have loaded.
    """
    ensure_writable_dir(settings.cache_dir, "cache")
    with contextlib.ExitStack() as stack:
        if settings.store == "pgvector":
            target = stack.enter_context(database(settings.database_url, settings.cache_dir))
            settings = settings.with_overrides(database_url=target.dsn)
        embedder = load_embedder(settings, show_progress=show_progress)
        nli = load_nli(settings, show_progress=show_progress)
        vectors = cached_corpus_vectors(embedder, settings.cache_dir, show_progress=show_progress)
        store = stack.enter_context(open_store(settings, vectors))
        yield Verifier(embedder, nli, store, corpus_units(), top_k=settings.top_k)
