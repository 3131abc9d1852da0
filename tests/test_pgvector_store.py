"""pgvector on the real embedded PostgreSQL: exact equals numpy, ANN reaches its recall, schemas stay private."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg.sql
import pytest

from veracity.db.server import connect
from veracity.errors import DatabaseError
from veracity.pipeline.pgvector_store import PgVectorStore
from veracity.pipeline.store import ExactNumpyStore, IndexSpec, recall_at_k

pytestmark = pytest.mark.db

N, DIM = 3000, 64


@pytest.fixture(scope="module")
def clustered() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clustered unit vectors, queries near the clusters, and exact top-10 ground truth."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(30, DIM))
    corpus = centres[rng.integers(0, 30, N)] + rng.normal(scale=0.3, size=(N, DIM))
    queries = centres[rng.integers(0, 30, 50)] + rng.normal(scale=0.3, size=(50, DIM))
    corpus = (corpus / np.linalg.norm(corpus, axis=1, keepdims=True)).astype(np.float32)
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    exact = ExactNumpyStore()
    exact.load(np.arange(N), corpus)
    return corpus, queries, exact.search_many(queries, 10)


def _plan_nodes(node: dict) -> Iterator[dict]:
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def _scans(store: PgVectorStore, query: np.ndarray, k: int) -> list[tuple[str, str | None]]:
    """(node type, index name) of each node of the plan the store's own session makes for its search.

    The store's connection and query, not a fresh session: the search settings it set (probes,
    ef_search, no sequential scan) are part of what chooses the plan.
    """
    explain = psycopg.sql.SQL("EXPLAIN (FORMAT JSON) ") + store._query
    ((plan,),) = store._conn.execute(explain, (np.asarray(query, dtype=np.float32), k)).fetchall()
    return [(node["Node Type"], node.get("Index Name")) for node in _plan_nodes(plan[0]["Plan"])]


def test_exact_scan_matches_numpy_ground_truth(database_dsn: str, clustered) -> None:
    corpus, queries, truth = clustered
    with PgVectorStore(database_dsn, DIM, IndexSpec("exact")) as store:
        store.load(np.arange(N), corpus)
        assert ("Seq Scan", None) in _scans(store, queries[0], 10)
        assert recall_at_k(store.search_many(queries, 10), truth, 10) == 1.0
        assert store.index_size_bytes() == 0


@pytest.mark.parametrize(
    ("spec", "floor"),
    [
        (IndexSpec("hnsw", m=16, ef_construction=64, ef_search=40), 0.95),
        (IndexSpec("ivfflat", lists=20, probes=10), 0.95),
        (IndexSpec("hnsw", metric="ip"), 0.95),
        (IndexSpec("hnsw", metric="l2"), 0.95),
    ],
    ids=lambda value: value.label() + f"-{value.metric}" if isinstance(value, IndexSpec) else str(value),
)
def test_ann_index_reaches_recall_and_reports_size(database_dsn: str, clustered, spec: IndexSpec, floor: float) -> None:
    corpus, queries, truth = clustered
    with PgVectorStore(database_dsn, DIM, spec) as store:
        store.load(np.arange(N), corpus)
        # A sequential scan would reach any recall floor: the search must go through the ANN index.
        assert ("Index Scan", f"vectors_{spec.kind}_idx") in _scans(store, queries[0], 10)
        assert recall_at_k(store.search_many(queries, 10), truth, 10) >= floor
        assert store.index_size_bytes() > 0
        assert store.timing.load_s > 0 and store.timing.index_s > 0


def test_scores_are_similarities_best_first(database_dsn: str, clustered) -> None:
    corpus, _, _ = clustered
    with PgVectorStore(database_dsn, DIM, IndexSpec("exact")) as store:
        store.load(np.arange(N), corpus)
        hits = store.search(corpus[42], 5)
    assert hits[0].id == 42 and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_store_lives_in_its_own_schema_and_drops_it(database_dsn: str) -> None:
    with connect(database_dsn) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.not_ours (x int)")
        conn.execute("INSERT INTO public.not_ours VALUES (1)")
        store = PgVectorStore(database_dsn, 4, IndexSpec("hnsw"))
        store.load(np.arange(3), np.eye(3, 4, dtype=np.float32))
        schemas = {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace")}
        assert store.schema in schemas
        store.close()
        store.close()  # closing twice is harmless
        schemas = {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace")}
        assert store.schema not in schemas
        assert conn.execute("SELECT count(*) FROM public.not_ours").fetchone()[0] >= 1
        conn.execute("DROP TABLE public.not_ours")


def test_two_stores_do_not_see_each_other(database_dsn: str) -> None:
    with (
        PgVectorStore(database_dsn, 2, IndexSpec("exact")) as a,
        PgVectorStore(database_dsn, 2, IndexSpec("exact")) as b,
    ):
        a.load(np.array([1]), np.array([[1.0, 0.0]], dtype=np.float32))
        b.load(np.array([2]), np.array([[0.0, 1.0]], dtype=np.float32))
        assert [h.id for h in a.search(np.array([0.0, 1.0]), 5)] == [1]
        assert a.schema != b.schema


def test_wrong_vector_shape_is_rejected(database_dsn: str) -> None:
    with PgVectorStore(database_dsn, 4, IndexSpec("exact")) as store, pytest.raises(ValueError, match="shape"):
        store.load(np.arange(2), np.zeros((2, 5), dtype=np.float32))


def test_unreachable_database_is_a_one_line_error_without_password() -> None:
    dsn = "postgresql://alice:hunter2-secret@127.0.0.1:1/nowhere"
    with pytest.raises(DatabaseError) as caught:
        connect(dsn)
    message = str(caught.value)
    assert "hunter2-secret" not in message and "\n" not in message
    assert "VERACITY_DATABASE_URL" in message


def test_lost_server_during_search_is_a_database_error(database_dsn: str) -> None:
    store = PgVectorStore(database_dsn, 2, IndexSpec("exact"))
    store.load(np.array([1]), np.array([[1.0, 0.0]], dtype=np.float32))
    pid = store._conn.info.backend_pid
    with connect(database_dsn) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(DatabaseError, match="lost the database"):
        store.search(np.array([1.0, 0.0]), 1)
    store.close()
    with connect(database_dsn) as admin:  # closing after the connection died still drops the schema
        schemas = {row[0] for row in admin.execute("SELECT nspname FROM pg_namespace")}
    assert store.schema not in schemas


def test_short_ivfflat_answers_are_padded_not_crashed(database_dsn: str) -> None:
    rng = np.random.default_rng(3)
    corpus = rng.normal(size=(200, 8)).astype(np.float32)
    with PgVectorStore(database_dsn, 8, IndexSpec("ivfflat", lists=50, probes=1)) as store:
        store.load(np.arange(200), corpus)
        found = store.search_many(corpus[:20], 10)
    assert found.shape == (20, 10)
    assert (found == -1).any(), "50 lists of ~4 vectors and 1 probe should return short answers"
    assert (found[:, 0] >= 0).all(), "every query still finds its nearest list"


def test_attached_store_searches_a_kept_table_and_never_drops_it(database_dsn: str, clustered) -> None:
    corpus, queries, truth = clustered
    owner = PgVectorStore(database_dsn, DIM, IndexSpec("hnsw"))
    owner.load(np.arange(N), corpus)
    with PgVectorStore(database_dsn, DIM, IndexSpec("hnsw", ef_search=100), attach=owner.schema) as attached:
        assert ("Index Scan", "vectors_hnsw_idx") in _scans(attached, queries[0], 10)
        assert recall_at_k(attached.search_many(queries, 10), truth, 10) >= 0.95
    owner.detach()  # the loading process goes away; the table stays for others
    with PgVectorStore(database_dsn, DIM, IndexSpec("hnsw"), attach=owner.schema) as again:
        assert again.search(corpus[0], 1)[0].id == 0
    with connect(database_dsn) as conn:
        assert conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (owner.schema,)).fetchone()
        conn.execute(psycopg.sql.SQL("DROP SCHEMA {} CASCADE").format(psycopg.sql.Identifier(owner.schema)))
