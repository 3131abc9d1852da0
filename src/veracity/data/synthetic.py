"""Seeded synthetic vector corpora with cluster structure, queries near them, and exact neighbours."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MAX_VECTORS = 1_000_000
MAX_CLUSTERS = 4096
# Rows generated per step: bounds the float64 scratch space whatever n is, and fixes the
# order in which random numbers are drawn so output never depends on memory or machine.
_CHUNK_ROWS = 8192
# Elements of one query-by-corpus score block in exact_neighbours (float32: 64 MiB).
_BLOCK_ELEMENTS = 1 << 24

_CENTRES, _CORPUS, _QUERIES = 0, 1, 2


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")


# The shape below was tuned so that an IVF index behaves as on real sentence embeddings: at
# 10,000-100,000 vectors with sqrt(n) lists, top-10 recall is roughly 0.4-0.5 with 1 probe,
# 0.7-0.8 with 3 and 0.95-1.0 with 10, rather than 1.0 at once (tight, separate clusters)
# or poor at any setting (isotropic noise).
# Few broad clusters, each split into several lists by an index, so probes matter.
_VECTORS_PER_CLUSTER_ROOT = 10
# Within a cluster, vectors vary mostly along a few directions of their own (low intrinsic
# dimension, as real embeddings do), with a smaller isotropic part on top.
_LATENT_DIM = 24
_LATENT_SHARE = 0.8
# Sibling clusters under one broad topic overlap a little (centre cosine about 0.5).
_SIBLING_GAP = 1.0
# Noise norm relative to the unit centre: cosine to the centre of about 0.58-0.78.
_SPREAD = (0.8, 1.4)


@dataclass(frozen=True)
class _Clusters:
    centres: np.ndarray  # [n_clusters, dim] float64, unit rows
    bases: np.ndarray  # [latent, n_clusters, dim] float64: each cluster's own directions of variation
    weights: np.ndarray  # [n_clusters] probabilities: cluster sizes are uneven, as in real data
    spreads: np.ndarray  # [n_clusters] noise norm relative to the unit centre


def _unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@dataclass(frozen=True)
class ClusteredSpec:
    """A deterministic clustered corpus: `n` unit vectors of `dim` dimensions around `n_clusters` centres.

    Meant for 1,000 to 100,000 vectors (up to 1,000,000 are accepted). Centres sit on the unit
    sphere, grouped under a few broader topics so that some clusters neighbour each other; each
    vector is its centre plus Gaussian noise of a per-cluster spread, mostly along the cluster's
    own few directions, then normalised. Approximate indexes get recall that depends on their
    settings, as with real sentence embeddings, rather than the trivial 1.0 of tight clusters or
    the poor recall of isotropic noise. Cluster sizes are uneven. The same spec gives the same
    float32 arrays on every machine: values are drawn as float64 from PCG64 streams derived from
    `seed` in fixed-size chunks, then rounded.
    """

    n: int
    dim: int = 384
    n_clusters: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        _check_positive(n=self.n, dim=self.dim)
        if self.n > MAX_VECTORS:
            raise ValueError(f"n must be at most {MAX_VECTORS:,}, got {self.n:,}")
        if self.n_clusters is not None:
            _check_positive(n_clusters=self.n_clusters)
            # Each cluster keeps a [latent, dim] float64 basis in memory while sampling.
            if self.n_clusters > min(self.n, MAX_CLUSTERS):
                raise ValueError(f"n_clusters must be at most min(n, {MAX_CLUSTERS}), got {self.n_clusters}")

    @property
    def clusters(self) -> int:
        """The number of clusters: as given, or sqrt(n) / 10 (at least 8, at most n)."""
        if self.n_clusters is not None:
            return self.n_clusters
        return min(self.n, max(8, round(math.sqrt(self.n) / _VECTORS_PER_CLUSTER_ROOT)))

    def _rng(self, stream: int, *extra: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, stream, *extra])

    def _clusters(self) -> _Clusters:
        rng = self._rng(_CENTRES)
        k = self.clusters
        n_topics = max(1, k // 8)
        topics = _unit_rows(rng.standard_normal((n_topics, self.dim)))
        offsets = rng.standard_normal((k, self.dim)) / math.sqrt(self.dim)
        centres = _unit_rows(topics[rng.integers(0, n_topics, size=k)] + _SIBLING_GAP * offsets)
        latent = min(_LATENT_DIM, self.dim)
        bases = rng.standard_normal((k, latent, self.dim)) / math.sqrt(self.dim)
        bases = np.ascontiguousarray(bases.transpose(1, 0, 2))
        sizes = rng.gamma(shape=2.0, scale=1.0, size=k)
        spreads = rng.uniform(*_SPREAD, size=k)
        return _Clusters(centres, bases, sizes / sizes.sum(), spreads)

    def _sample(self, rng: np.random.Generator, clusters: _Clusters, rows: int) -> np.ndarray:
        out = np.empty((rows, self.dim), dtype=np.float32)
        latent = clusters.bases.shape[0]
        for start in range(0, rows, _CHUNK_ROWS):
            m = min(_CHUNK_ROWS, rows - start)
            which = rng.choice(len(clusters.weights), size=m, p=clusters.weights)
            coords = rng.standard_normal((m, latent)) / math.sqrt(latent)
            noise = math.sqrt(1 - _LATENT_SHARE) * rng.standard_normal((m, self.dim)) / math.sqrt(self.dim)
            coords *= math.sqrt(_LATENT_SHARE)
            # Elementwise multiply-adds, one latent direction at a time, rather than a matrix
            # product: BLAS kernels sum in a CPU-dependent order, IEEE elementwise operations
            # give the same bits on every machine.
            order = np.argsort(which, kind="stable")
            bounds = np.searchsorted(which[order], np.arange(len(clusters.weights) + 1))
            for cluster in range(len(clusters.weights)):
                members = order[bounds[cluster] : bounds[cluster + 1]]
                if members.size:
                    part = noise[members]
                    for direction in range(latent):
                        part += coords[members, direction, None] * clusters.bases[direction, cluster]
                    noise[members] = part
            points = clusters.centres[which] + clusters.spreads[which, None] * noise
            out[start : start + m] = _unit_rows(points)
        return out

    def corpus(self) -> np.ndarray:
        """The corpus: float32 [n, dim], unit-norm rows."""
        return self._sample(self._rng(_CORPUS), self._clusters(), self.n)

    def queries(self, n_queries: int, seed: int = 0) -> np.ndarray:
        """Queries drawn around the corpus's cluster centres, not copies of its rows: float32 [n_queries, dim].

        `seed` picks one of many independent query sets for the same corpus.
        """
        _check_positive(n_queries=n_queries)
        return self._sample(self._rng(_QUERIES, seed), self._clusters(), n_queries)


def make_clustered_corpus(n: int, dim: int = 384, n_clusters: int | None = None, seed: int = 0) -> np.ndarray:
    """Shorthand for `ClusteredSpec(n, dim, n_clusters, seed).corpus()`."""
    return ClusteredSpec(n, dim, n_clusters, seed).corpus()


def make_queries(spec: ClusteredSpec, n_queries: int, seed: int = 0) -> np.ndarray:
    """Shorthand for `spec.queries(n_queries, seed)`."""
    return spec.queries(n_queries, seed)


def exact_neighbours(corpus: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Indices of the `k` corpus rows with the largest inner product per query: int64 [n_queries, k].

    Rows are ordered by descending score (cosine, for unit rows); equal scores go to the lower
    index. Work is done a block of queries at a time, so memory stays near 64 MiB beyond the
    inputs whatever their size. Scores come from a float32 matrix product, whose rounding depends
    on the BLAS build: scores within float32 rounding of each other may swap on another machine.
    """
    if corpus.ndim != 2 or queries.ndim != 2:
        raise ValueError("corpus and queries must be 2-D arrays")
    n, dim = corpus.shape
    _check_positive(k=k, n=n, dim=dim)
    if queries.shape[1] != dim:
        raise ValueError(f"queries have {queries.shape[1]} dimensions, the corpus {dim}")
    if k > n:
        raise ValueError(f"k={k} exceeds the corpus size {n}")
    result = np.empty((queries.shape[0], k), dtype=np.int64)
    step = max(1, _BLOCK_ELEMENTS // n)
    for start in range(0, queries.shape[0], step):
        scores = queries[start : start + step] @ corpus.T
        for row, top in enumerate(_top_k(scores, k), start=start):
            result[row] = top
    return result


def _top_k(scores: np.ndarray, k: int) -> list[np.ndarray]:
    if k < scores.shape[1]:
        candidates = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        candidates = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    picked = np.take_along_axis(scores, candidates, axis=1)
    kth = picked.min(axis=1)
    tied_everywhere = (scores == kth[:, None]).sum(axis=1)
    tied_picked = (picked == kth[:, None]).sum(axis=1)
    out = []
    for i in range(scores.shape[0]):
        chosen = candidates[i]
        if tied_everywhere[i] != tied_picked[i]:
            # argpartition picked arbitrary members of a tie at the cut: take the lowest indices.
            above = np.flatnonzero(scores[i] > kth[i])
            level = np.flatnonzero(scores[i] == kth[i])[: k - above.size]
            chosen = np.concatenate([above, level])
        order = np.lexsort((chosen, -scores[i, chosen]))
        out.append(chosen[order].astype(np.int64))
    return out
