"""The vector-store interface, its index settings, and the exact numpy search used as ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from veracity.errors import ConfigError

INDEX_KINDS = ("exact", "ivfflat", "hnsw")
METRICS = ("cosine", "ip", "l2")


@dataclass(frozen=True)
class IndexSpec:
    """Which index to build and how to search it (pgvector's own parameter names)."""

    kind: str = "hnsw"
    metric: str = "cosine"
    lists: int = 50
    probes: int = 10
    m: int = 16
    ef_construction: int = 64
    ef_search: int = 40
    build_workers: int = 0
    """Parallel maintenance workers for the index build; 0 builds in one process, so timings do not
    depend on the core count."""
    build_memory_mb: int = 1024

    def __post_init__(self) -> None:
        if self.kind not in INDEX_KINDS:
            raise ConfigError(f"index kind {self.kind!r} is unknown; use one of {', '.join(INDEX_KINDS)}")
        if self.metric not in METRICS:
            raise ConfigError(f"metric {self.metric!r} is unknown; use one of {', '.join(METRICS)}")
        for name in ("lists", "probes", "m", "ef_construction", "ef_search", "build_memory_mb"):
            if getattr(self, name) < 1:
                raise ConfigError(f"index parameter {name} must be at least 1")
        if self.build_workers < 0:
            raise ConfigError("index parameter build_workers must be 0 or more")

    def label(self) -> str:
        """A short human name, e.g. `hnsw(m=16,ef_search=40)`."""
        if self.kind == "ivfflat":
            return f"ivfflat(lists={self.lists},probes={self.probes})"
        if self.kind == "hnsw":
            return f"hnsw(m={self.m},ef_construction={self.ef_construction},ef_search={self.ef_search})"
        return "exact"


@dataclass(frozen=True)
class SearchHit:
    """One neighbour: the row id given at load time and its similarity (higher is closer)."""

    id: int
    score: float


class VectorStore(Protocol):
    """Load vectors once, then answer top-k queries; ids are the integers given at load time."""

    def load(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, k: int) -> list[SearchHit]: ...

    def close(self) -> None: ...


def _validate(ids: np.ndarray, vectors: np.ndarray) -> None:
    if vectors.ndim != 2 or vectors.shape[0] != len(ids):
        raise ValueError(f"expected {len(ids)} vectors as a 2-d array, got shape {vectors.shape}")


class ExactNumpyStore:
    """Brute-force search in memory: slow for large corpora but always exact."""

    def __init__(self, metric: str = "cosine") -> None:
        if metric not in METRICS:
            raise ConfigError(f"metric {metric!r} is unknown; use one of {', '.join(METRICS)}")
        self.metric = metric
        self._ids = np.empty(0, dtype=np.int64)
        self._vectors = np.empty((0, 0), dtype=np.float32)
        self._norms = np.empty(0, dtype=np.float32)

    def load(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        _validate(ids, vectors)
        self._ids = np.asarray(ids, dtype=np.int64)
        self._vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self._norms = np.linalg.norm(self._vectors, axis=1)

    def scores(self, queries: np.ndarray) -> np.ndarray:
        """Similarity of each query to every stored vector, shape (n_queries, n_vectors)."""
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        dots = queries @ self._vectors.T
        if self.metric == "ip":
            return dots
        if self.metric == "cosine":
            q_norms = np.linalg.norm(queries, axis=1, keepdims=True)
            return dots / np.maximum(q_norms * self._norms[None, :], 1e-12)
        sq = (queries**2).sum(axis=1, keepdims=True) - 2 * dots + (self._norms**2)[None, :]
        return -np.sqrt(np.maximum(sq, 0.0))

    def search_many(self, queries: np.ndarray, k: int) -> np.ndarray:
        """Top-k row ids per query, best first, shape (n_queries, min(k, n))."""
        scores = self.scores(queries)
        k = min(k, scores.shape[1])
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
        return self._ids[np.take_along_axis(part, order, axis=1)]

    def search(self, query: np.ndarray, k: int) -> list[SearchHit]:
        scores = self.scores(query)[0]
        k = min(k, scores.shape[0])
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [SearchHit(int(self._ids[i]), float(scores[i])) for i in top]

    def close(self) -> None:
        self._vectors = np.empty((0, 0), dtype=np.float32)


def recall_at_k(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Share of the true top-k neighbours that the search returned in its top k, averaged over queries."""
    found, truth = np.atleast_2d(found)[:, :k], np.atleast_2d(truth)[:, :k]
    hits = sum(len(set(f.tolist()) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / float(truth.size)
