"""PostgreSQL + pgvector store: binary COPY load, then an exact, IVFFlat or HNSW index, in its own schema."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

import numpy as np
import psycopg
from psycopg import sql

from veracity.db.dsn import redact_dsn
from veracity.db.server import connect
from veracity.errors import DatabaseError
from veracity.pipeline.store import IndexSpec, SearchHit

_OPS = {"cosine": "vector_cosine_ops", "ip": "vector_ip_ops", "l2": "vector_l2_ops"}
_OPERATOR = {"cosine": "<=>", "ip": "<#>", "l2": "<->"}
TABLE = "vectors"


def _score(metric: str, distance: float) -> float:
    """Turn pgvector's distance back into a similarity where higher is closer."""
    if metric == "cosine":
        return 1.0 - distance
    return -distance  # `<#>` is the negative inner product; for l2 nearer is better


@dataclass(frozen=True)
class LoadTiming:
    """Seconds spent loading rows and building the index (ANALYZE included)."""

    load_s: float
    index_s: float


class PgVectorStore:
    """A table of vectors in a private schema, dropped on `close()`; never touches other tables."""

    def __init__(
        self, dsn: str, dim: int, spec: IndexSpec, *, schema_prefix: str = "veracity", attach: str | None = None
    ) -> None:
        """Create a fresh private schema, or `attach` to one a previous store loaded and kept.

        An attached store searches the existing table with `spec`'s search settings and never
        drops it: the process that created it owns it (benchmarks load once, search in many
        processes).
        """
        self.spec = spec
        self.dim = dim
        self.schema = attach or f"{schema_prefix}_{secrets.token_hex(6)}"
        self.owns_schema = attach is None
        self._dsn = dsn
        self._conn = connect(dsn)
        self._dsn_display = redact_dsn(dsn)
        self._query: sql.Composed | None = None
        self._dropped = not self.owns_schema
        self.timing = LoadTiming(0.0, 0.0)
        if attach:
            self._configure_search()
            return
        self._run(
            sql.SQL("CREATE SCHEMA {s}; CREATE TABLE {s}.{t} (id bigint PRIMARY KEY, embedding vector({d}))").format(
                s=sql.Identifier(self.schema), t=sql.Identifier(TABLE), d=sql.Literal(dim)
            )
        )

    def _run(self, statement: sql.Composable, params: tuple | None = None) -> psycopg.Cursor:
        try:
            return self._conn.execute(statement, params)
        except psycopg.OperationalError as exc:
            raise DatabaseError(
                f"lost the database at {self._dsn_display} ({exc.__class__.__name__}); check the server and re-run"
            ) from None

    @property
    def _table(self) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(TABLE))

    def load(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Bulk-load with binary COPY, then build the index and ANALYZE (index after load is faster)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (len(ids), self.dim):
            raise ValueError(f"expected shape ({len(ids)}, {self.dim}), got {vectors.shape}")
        start = time.perf_counter()
        try:
            with (
                self._conn.cursor() as cur,
                cur.copy(
                    sql.SQL("COPY {} (id, embedding) FROM STDIN WITH (FORMAT BINARY)").format(self._table)
                ) as copy,
            ):
                copy.set_types(["int8", "vector"])
                for row_id, vector in zip(np.asarray(ids, dtype=np.int64).tolist(), vectors, strict=True):
                    copy.write_row((row_id, vector))
        except psycopg.OperationalError as exc:
            raise DatabaseError(
                f"lost the database at {self._dsn_display} during load ({exc.__class__.__name__})"
            ) from None
        loaded = time.perf_counter()
        self._build_index()
        self._run(sql.SQL("ANALYZE {}").format(self._table))
        self.timing = LoadTiming(loaded - start, time.perf_counter() - loaded)
        self._configure_search()

    def _build_index(self) -> None:
        spec = self.spec
        if spec.kind == "exact":
            return
        # A graph that outgrows maintenance_work_mem makes HNSW builds many times slower.
        self._run(sql.SQL("SET maintenance_work_mem = {}").format(sql.Literal(f"{spec.build_memory_mb}MB")))
        self._run(sql.SQL("SET max_parallel_maintenance_workers = {}").format(sql.Literal(spec.build_workers)))
        if spec.kind == "ivfflat":
            options = sql.SQL("WITH (lists = {})").format(sql.Literal(spec.lists))
        else:
            options = sql.SQL("WITH (m = {}, ef_construction = {})").format(
                sql.Literal(spec.m), sql.Literal(spec.ef_construction)
            )
        self._run(
            sql.SQL("CREATE INDEX {name} ON {table} USING {method} (embedding {ops}) {options}").format(
                name=sql.Identifier(f"{TABLE}_{spec.kind}_idx"),
                table=self._table,
                method=sql.SQL(spec.kind),
                ops=sql.SQL(_OPS[spec.metric]),
                options=options,
            )
        )

    def _configure_search(self) -> None:
        spec = self.spec
        if spec.kind != "exact":
            # The spec names the index to measure: the planner must not swap in a sequential scan
            # for a small table, or an ANN benchmark would silently time an exact search.
            self._run(sql.SQL("SET enable_seqscan = off"))
        if spec.kind == "ivfflat":
            self._run(sql.SQL("SET ivfflat.probes = {}").format(sql.Literal(spec.probes)))
        elif spec.kind == "hnsw":
            self._run(sql.SQL("SET hnsw.ef_search = {}").format(sql.Literal(spec.ef_search)))
        self._query = sql.SQL("SELECT id, embedding {op} %s AS distance FROM {table} ORDER BY 2 LIMIT %s").format(
            op=sql.SQL(_OPERATOR[spec.metric]), table=self._table
        )

    def search(self, query: np.ndarray, k: int) -> list[SearchHit]:
        """One round trip: the k nearest rows by the spec's metric, best first."""
        if self._query is None:
            raise RuntimeError("load() must run before search()")
        vector = np.asarray(query, dtype=np.float32).reshape(-1)
        try:
            rows = self._conn.execute(self._query, (vector, k), prepare=True).fetchall()
        except psycopg.OperationalError as exc:
            raise DatabaseError(
                f"lost the database at {self._dsn_display} during search ({exc.__class__.__name__})"
            ) from None
        return [SearchHit(int(row_id), _score(self.spec.metric, float(dist))) for row_id, dist in rows]

    def search_many(self, queries: np.ndarray, k: int) -> np.ndarray:
        """Top-k ids for each query row (one round trip each), shape (n_queries, k).

        An approximate index can return fewer than k rows (IVFFlat with few probes over small
        lists does); the missing places are -1, which no recall computation counts as a hit.
        """
        found = np.full((len(np.atleast_2d(queries)), k), -1, dtype=np.int64)
        for row, query in enumerate(np.atleast_2d(queries)):
            ids = [hit.id for hit in self.search(query, k)]
            found[row, : len(ids)] = ids
        return found

    def index_size_bytes(self) -> int:
        """Bytes on disk of the index (0 for exact search)."""
        if self.spec.kind == "exact":
            return 0
        index = sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(f"{TABLE}_{self.spec.kind}_idx"))
        regclass = index.as_string(self._conn)
        return int(self._run(sql.SQL("SELECT pg_relation_size(%s::regclass)"), (regclass,)).fetchone()[0])

    def detach(self) -> None:
        """Disconnect but keep the schema, for other processes to `attach` to (its creator drops it later)."""
        self._dropped = True
        self._conn.close()

    def close(self) -> None:
        """Drop this store's schema (if it owns it) and disconnect; safe twice or after the connection died."""
        if self._dropped:
            self._conn.close()
            return
        drop = sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(self.schema))
        try:
            self._conn.execute(drop)
            self._dropped = True
        except psycopg.Error:
            # Our connection died (server restarted, backend killed): try once on a fresh one.
            try:
                with connect(self._dsn) as fresh:
                    fresh.execute(drop)
                self._dropped = True
            except (psycopg.Error, DatabaseError):
                self._dropped = True  # the server is gone; nothing more can be done from here
        finally:
            self._conn.close()

    def __enter__(self) -> PgVectorStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
