"""Assembles a ready ServingPipeline from Settings, as `session.open_pipeline` does a Verifier."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from veracity.config import Settings
from veracity.db.server import database
from veracity.fsutil import ensure_writable_dir
from veracity.pipeline.serving import DEFAULT_CONNECTIONS, ServingPipeline, StorePool
from veracity.pipeline.session import cached_corpus_vectors, corpus_units, load_embedder, load_nli, open_store
from veracity.pipeline.store import IndexSpec, VectorStore


def attached_pool(dsn: str, dim: int, spec: IndexSpec, schema: str, connections: int) -> StorePool:
    """`connections` stores on their own connections, searching one loaded table (`schema`)."""
    from veracity.pipeline.pgvector_store import PgVectorStore

    return StorePool([PgVectorStore(dsn, dim, spec, attach=schema) for _ in range(connections)])


def pool_over(store: VectorStore, dsn: str | None, dim: int, spec: IndexSpec, connections: int) -> StorePool:
    """A pool searching what `store` loaded: connections of their own for PostgreSQL; the in-memory
    exact store is read-only once loaded, so every caller can share it."""
    schema = getattr(store, "schema", None)
    if schema is None or dsn is None:
        return StorePool([store])
    return attached_pool(dsn, dim, spec, schema, connections)


@contextlib.contextmanager
def open_serving_pipeline(
    settings: Settings, *, connections: int = DEFAULT_CONNECTIONS, **options: Any
) -> Iterator[ServingPipeline]:
    """A ServingPipeline over the shipped corpus; `options` go to ServingPipeline (workers, max_batch, ...)."""
    ensure_writable_dir(settings.cache_dir, "cache")
    with contextlib.ExitStack() as stack:
        dsn = None
        if settings.store == "pgvector":
            dsn = stack.enter_context(database(settings.database_url, settings.cache_dir)).dsn
            settings = settings.with_overrides(database_url=dsn)
        embedder = load_embedder(settings)
        nli = load_nli(settings)
        vectors = cached_corpus_vectors(embedder, settings.cache_dir)
        spec = IndexSpec(kind=settings.index)
        store = stack.enter_context(open_store(settings, vectors, spec))
        pool = pool_over(store, dsn, vectors.shape[1], spec, connections)
        serving = ServingPipeline(embedder, nli, pool, corpus_units(), top_k=settings.top_k, **options)
        with serving:
            yield serving
