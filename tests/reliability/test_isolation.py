"""Benchmarks and tests touch only their own schema and remove it afterwards, even when their connection dies.

Run on an embedded PostgreSQL of this module's own, so that other test sessions' schemas on the
shared server cannot blur what is counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from reliability_helpers import postgres_processes

from veracity.db.server import EmbeddedServer, connect, stop_embedded
from veracity.errors import DatabaseError
from veracity.pipeline.pgvector_store import PgVectorStore
from veracity.pipeline.store import IndexSpec

pytestmark = pytest.mark.db

SYSTEM = ("public", "information_schema")


def user_schemas(dsn: str) -> set[str]:
    with connect(dsn) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace").fetchall()
    return {name for (name,) in rows if name not in SYSTEM and not name.startswith("pg_")}


@pytest.fixture(scope="module")
def dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cache = tmp_path_factory.mktemp("isolation-cache")
    yield EmbeddedServer(cache, keep_running=True).start()
    stop_embedded(cache)
    assert postgres_processes(cache / "pgdata") == []


@pytest.fixture
def sentinel(dsn: str) -> Iterator[str]:
    """Someone else's schema and table, which no store may touch."""
    with connect(dsn) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS someone_else")
        conn.execute("CREATE TABLE IF NOT EXISTS someone_else.precious (id int)")
        conn.execute("TRUNCATE someone_else.precious")
        conn.execute("INSERT INTO someone_else.precious VALUES (1), (2), (3)")
    yield "someone_else"
    with connect(dsn) as conn:
        assert conn.execute("SELECT count(*) FROM someone_else.precious").fetchone()[0] == 3


def _loaded_store(dsn: str, kind: str) -> PgVectorStore:
    vectors = np.random.default_rng(1).standard_normal((200, 8)).astype("float32")
    store = PgVectorStore(dsn, 8, IndexSpec(kind=kind, lists=4, probes=2))
    store.load(np.arange(200), vectors)
    assert store.search(vectors[3], 1)[0].id == 3
    return store


@pytest.mark.parametrize("kind", ["exact", "ivfflat", "hnsw"])
def test_a_store_creates_one_schema_and_drops_it(dsn: str, sentinel: str, kind: str) -> None:
    before = user_schemas(dsn)
    store = _loaded_store(dsn, kind)
    assert user_schemas(dsn) - before == {store.schema}
    store.close()
    store.close()  # twice is harmless
    assert user_schemas(dsn) == before


def test_a_store_whose_connection_was_killed_still_drops_its_schema(dsn: str, sentinel: str) -> None:
    before = user_schemas(dsn)
    store = _loaded_store(dsn, "hnsw")
    with connect(dsn) as admin:
        pid = store._conn.info.backend_pid
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
    with pytest.raises(DatabaseError, match="lost the database"):
        store.search(np.zeros(8, dtype="float32"), 3)
    store.close()
    assert user_schemas(dsn) == before


def test_attached_stores_never_drop_the_owners_schema(dsn: str, sentinel: str) -> None:
    before = user_schemas(dsn)
    owner = _loaded_store(dsn, "exact")
    owner.detach()
    reader = PgVectorStore(dsn, 8, IndexSpec(kind="exact"), attach=owner.schema)
    reader.close()
    assert owner.schema in user_schemas(dsn)
    with connect(dsn) as conn:
        conn.execute(f'DROP SCHEMA "{owner.schema}" CASCADE')  # the owner's job: what `make bench` does at the end
    assert user_schemas(dsn) == before


@pytest.mark.asv
@pytest.mark.slow
def test_a_benchmark_run_leaves_no_schema_behind(hostile_site) -> None:
    """The hostile project's database benchmark ran through `veracity bench`; its schemas are gone."""
    assert user_schemas(hostile_site.dsn) == set()


def test_the_bench_run_drops_kept_benchmark_schemas_at_the_end(dsn: str, tmp_path: Path) -> None:
    from veracity.bench.database import drop_bench_schemas

    owner = _loaded_store(dsn, "exact")
    owner.detach()  # as vector_search.build_table keeps its tables for the benchmark processes
    drop_bench_schemas(dsn)
    assert owner.schema not in user_schemas(dsn)
