"""Vector search on the embedded PostgreSQL: exact, IVFFlat and HNSW over 1k-50k clustered vectors.

Each class loads and indexes its tables once per run in `setup_cache` (kept in the database under
`veracity_bench_*` schemas), measures latency percentiles and recall there for the whole grid, and
hands the numbers to cheap `track_*` methods; `time_query` is timed by asv itself in every process,
against the same tables.
"""

from __future__ import annotations

import functools
import itertools
import time

import numpy as np
from psycopg import sql

from benchmarks.common import database_dsn, keep_table, percentiles
from veracity.data.synthetic import ClusteredSpec, exact_neighbours
from veracity.db.server import connect
from veracity.pipeline.pgvector_store import PgVectorStore
from veracity.pipeline.store import ExactNumpyStore, IndexSpec, recall_at_k
from veracity.tracking.direction import higher_is_better, lower_is_better

SIZES = [1_000, 10_000, 50_000]
DIM = 384
QUERIES = 200
K = 10
WARMUP_QUERIES = 5
IVF_LISTS = [10, 25, 50, 100]
IVF_PROBES = [1, 5, 10, 25]
HNSW_M = [8, 16]
HNSW_EF_SEARCH = [10, 40, 100]
SCHEMA_PREFIX = "veracity_bench"
STALE_AFTER_S = 6 * 3600


@functools.cache
def dataset(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Corpus, queries and exact top-k ground truth for a size: seeded, the same on every machine."""
    spec = ClusteredSpec(n=n, dim=DIM, seed=0)
    corpus, queries = spec.corpus(), spec.queries(QUERIES, seed=1)
    return corpus, queries, exact_neighbours(corpus, queries, K)


def drop_stale_schemas(dsn: str) -> None:
    """Drop benchmark schemas left by runs older than STALE_AFTER_S (their processes `_exit`ed)."""
    with connect(dsn) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (SCHEMA_PREFIX + "_%",))
        for (name,) in rows.fetchall():
            stamp = name.split("_")[2] if name.count("_") >= 3 else ""
            if stamp.isdigit() and time.time() - int(stamp) > STALE_AFTER_S:
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def build_table(dsn: str, n: int, spec: IndexSpec) -> tuple[str, float, int]:
    """Load a size and build `spec`'s index in a kept schema: (schema, build seconds, index bytes)."""
    corpus, _, _ = dataset(n)
    store = PgVectorStore(dsn, DIM, spec, schema_prefix=f"{SCHEMA_PREFIX}_{int(time.time())}")
    store.load(np.arange(n), corpus)
    result = store.schema, store.timing.index_s, store.index_size_bytes()
    keep_table(store)
    return result


def measure(dsn: str, schema: str, n: int, spec: IndexSpec) -> dict[str, float]:
    """Latency percentiles (ms, one query per round trip) and recall@1/@10 against exact search.

    One pass: each query is timed and its answer kept for recall, after a few warm-up queries.
    """
    _, queries, truth = dataset(n)
    store = PgVectorStore(dsn, DIM, spec, attach=schema)
    found = np.full((len(queries), K), -1, dtype=np.int64)
    samples = np.empty(len(queries))
    try:
        for query in queries[:WARMUP_QUERIES]:
            store.search(query, K)
        for row, query in enumerate(queries):
            start = time.perf_counter()
            hits = store.search(query, K)
            samples[row] = (time.perf_counter() - start) * 1000.0
            found[row, : len(hits)] = [hit.id for hit in hits]
    finally:
        store.close()
    return {
        **percentiles(samples),
        "recall@1": recall_at_k(found, truth, 1),
        "recall@10": recall_at_k(found, truth, K),
    }


def prepare(grid: dict[tuple, tuple[tuple, IndexSpec]]) -> dict:
    """Build each distinct table once, then measure every parameter set of the grid against it.

    `grid` maps a parameter tuple (size first) to (build key, spec); parameter sets that share a
    build key share a table and differ only in search settings (probes, ef_search).
    """
    dsn = database_dsn()
    drop_stale_schemas(dsn)
    built: dict[tuple, tuple[str, float, int]] = {}
    rows: dict[tuple, dict[str, float]] = {}
    schemas: dict[tuple, str] = {}
    for params, (build_key, spec) in grid.items():
        if build_key not in built:
            built[build_key] = build_table(dsn, params[0], spec)
        schema, build_s, index_bytes = built[build_key]
        schemas[params] = schema
        rows[params] = {**measure(dsn, schema, params[0], spec), "build_s": build_s, "index_bytes": index_bytes}
    return {"schemas": schemas, "rows": rows, "queries": {n: dataset(n)[1] for n in {p[0] for p in grid}}}


class _SearchGrid:
    """The benchmarks every index kind shares; subclasses define the grid and their own setup_cache
    (asv keys its cache by the defining function, so an inherited one would be shared)."""

    timeout = 300
    rounds = 1
    repeat = (5, 10, 2.0)
    warmup_time = 0.05

    @staticmethod
    def spec(*params: int) -> IndexSpec:
        raise NotImplementedError

    @classmethod
    def grid(cls) -> dict[tuple, tuple[tuple, IndexSpec]]:
        return {p: (cls.build_key(*p), cls.spec(*p)) for p in itertools.product(*cls.params)}

    @staticmethod
    def build_key(*params: int) -> tuple:
        return params

    def setup(self, cache: dict, *params: int) -> None:
        self.row = cache["rows"][params]
        self.store = PgVectorStore(database_dsn(), DIM, self.spec(*params), attach=cache["schemas"][params])
        self.queries = cache["queries"][params[0]]
        self.position = itertools.cycle(range(len(self.queries)))
        # asv calls setup before every repeat, so each sample starts on a new connection whose
        # first queries pay for catalog look-ups and the prepared statement: warm it untimed.
        for query in self.queries[:WARMUP_QUERIES]:
            self.store.search(query, K)

    def teardown(self, cache: dict, *params: int) -> None:
        self.store.close()

    def time_query(self, cache: dict, *params: int) -> None:
        """One top-10 query, one round trip."""
        self.store.search(self.queries[next(self.position)], K)

    @lower_is_better("ms")
    def track_latency_p50(self, cache: dict, *params: int) -> float:
        return self.row["p50"]

    @lower_is_better("ms")
    def track_latency_p95(self, cache: dict, *params: int) -> float:
        return self.row["p95"]

    @lower_is_better("ms")
    def track_latency_p99(self, cache: dict, *params: int) -> float:
        return self.row["p99"]

    @higher_is_better("ratio")
    def track_recall_at_1(self, cache: dict, *params: int) -> float:
        return self.row["recall@1"]

    @higher_is_better("ratio")
    def track_recall_at_10(self, cache: dict, *params: int) -> float:
        return self.row["recall@10"]

    @lower_is_better("seconds")
    def track_index_build_seconds(self, cache: dict, *params: int) -> float:
        return self.row["build_s"]

    @lower_is_better("bytes")
    def track_index_size_bytes(self, cache: dict, *params: int) -> int:
        return int(self.row["index_bytes"])


class ExactSearch(_SearchGrid):
    """Sequential scan: exact by construction, the baseline every index is read against."""

    params = [SIZES]
    param_names = ["vectors"]

    @staticmethod
    def spec(*params: int) -> IndexSpec:
        return IndexSpec("exact")

    def setup_cache(self) -> dict:
        return prepare(self.grid())


class IvfflatSearch(_SearchGrid):
    """IVFFlat: lists fixed at build time, probes chosen per query."""

    params = [SIZES, IVF_LISTS, IVF_PROBES]
    param_names = ["vectors", "lists", "probes"]

    @staticmethod
    def spec(*params: int) -> IndexSpec:
        _, lists, probes = params
        return IndexSpec("ivfflat", lists=lists, probes=probes)

    @staticmethod
    def build_key(*params: int) -> tuple:
        return params[:2]

    def setup_cache(self) -> dict:
        return prepare(self.grid())


class HnswSearch(_SearchGrid):
    """HNSW: m fixed at build time (ef_construction 64), ef_search chosen per query."""

    params = [SIZES, HNSW_M, HNSW_EF_SEARCH]
    param_names = ["vectors", "m", "ef_search"]

    @staticmethod
    def spec(*params: int) -> IndexSpec:
        _, m, ef_search = params
        return IndexSpec("hnsw", m=m, ef_search=ef_search)

    @staticmethod
    def build_key(*params: int) -> tuple:
        return params[:2]

    def setup_cache(self) -> dict:
        return prepare(self.grid())


class BulkLoad:
    """Binary COPY of a whole corpus into an empty table (the index is built afterwards, separately)."""

    params = [SIZES]
    param_names = ["vectors"]
    timeout = 120

    def setup(self, n: int) -> None:
        self.corpus = dataset(n)[0]
        self.dsn = database_dsn()

    @lower_is_better("seconds")
    def track_bulk_load_seconds(self, n: int) -> float:
        best = float("inf")
        for _ in range(2):
            with PgVectorStore(self.dsn, DIM, IndexSpec("exact")) as store:
                store.load(np.arange(n), self.corpus)
                best = min(best, store.timing.load_s)
        return best


class NumpyExactSearch:
    """The in-memory exact search used as ground truth: one top-10 query."""

    params = [SIZES]
    param_names = ["vectors"]

    def setup(self, n: int) -> None:
        corpus, self.queries, _ = dataset(n)
        self.store = ExactNumpyStore()
        self.store.load(np.arange(n), corpus)
        self.position = itertools.cycle(range(len(self.queries)))

    def time_query(self, n: int) -> None:
        self.store.search(self.queries[next(self.position)], K)
