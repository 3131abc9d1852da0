"""The vector-search suite's tables: finished runs' schemas are dropped, new tables leave no background work."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks import database
from benchmarks.database import SCHEMA_PREFIX
from benchmarks.run_cache import invocation_owner
from veracity.db.server import connect
from veracity.pipeline.pgvector_store import PgVectorStore
from veracity.pipeline.store import IndexSpec

pytestmark = pytest.mark.db


def dead_pid() -> int:
    """A pid that no process has: a child that has exited and been reaped."""
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_schemas_of_finished_runs_are_told_apart_from_live_and_unknown_ones() -> None:
    now = int(time.time())
    stale = now - database.STALE_AFTER_S - 10
    ours = invocation_owner().pid
    finished = database.finished_run_schema
    assert finished(f"{SCHEMA_PREFIX}_{now}_{dead_pid()}_c0de_a1b2c3")
    assert not finished(f"{SCHEMA_PREFIX}_{now}_{ours}_c0de_a1b2c3")  # our own run
    assert not finished(f"{SCHEMA_PREFIX}_{now}_{os.getpid()}_c0de_a1b2c3")  # another live run
    assert not finished(f"{SCHEMA_PREFIX}_{now}_a1b2c3")  # no owner recorded: by age
    assert finished(f"{SCHEMA_PREFIX}_{stale}_a1b2c3")
    assert finished(f"{SCHEMA_PREFIX}_{stale}_{os.getpid()}_c0de_a1b2c3")
    assert not finished(f"{SCHEMA_PREFIX}_notatime_a1b2c3")


def test_a_run_keeps_the_tables_of_its_two_most_recent_code_identities() -> None:
    names = [
        f"{SCHEMA_PREFIX}_100_42_aaaa_01",  # oldest identity of run 42
        f"{SCHEMA_PREFIX}_200_42_bbbb_02",
        f"{SCHEMA_PREFIX}_300_42_cccc_03",  # most recent other identity
        f"{SCHEMA_PREFIX}_150_42_dddd_04",  # the identity building now, built before
        f"{SCHEMA_PREFIX}_100_7_aaaa_05",  # another run's: not this function's business
    ]
    assert database.evicted_schemas(names, 42, "dddd") == [names[0], names[1]]
    assert database.evicted_schemas(names, 42, "cccc", keep=1) == [names[0], names[1], names[3]]
    assert database.evicted_schemas(names, 42, "eeee", keep=3) == [names[0], names[3]]


def test_a_run_drops_finished_runs_tables_and_settles_its_own(database_dsn: str) -> None:
    finished = f"{SCHEMA_PREFIX}_{int(time.time())}_{dead_pid()}_feedbeef0001"
    live = f"{SCHEMA_PREFIX}_{int(time.time())}_{os.getpid()}_feedbeef0002"
    with connect(database_dsn) as conn:
        for name in (finished, live):
            conn.execute(f'CREATE SCHEMA "{name}"')
    try:
        database.drop_finished_schemas(database_dsn)
        with connect(database_dsn) as conn:
            names = {row[0] for row in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}
        assert finished not in names and live in names

        rng = np.random.default_rng(0)
        store = PgVectorStore(database_dsn, 8, IndexSpec("hnsw", m=8), schema_prefix=database.schema_prefix())
        store.load(np.arange(500), rng.standard_normal((500, 8)).astype(np.float32))
        schema = store.schema
        store.detach()
        assert database.finished_run_schema(schema) is False
        database.settle_table(database_dsn, schema)
        with connect(database_dsn) as conn:
            options, vacuumed = conn.execute(
                "SELECT c.reloptions, s.last_vacuum IS NOT NULL FROM pg_class c "
                "JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE s.schemaname = %s",
                (schema,),
            ).fetchone()
        assert options == ["autovacuum_enabled=off"] and vacuumed
    finally:
        with connect(database_dsn) as conn:
            rows = conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (SCHEMA_PREFIX + "_%",)
            ).fetchall()
            for (name,) in rows:
                if name in (finished, live) or name.startswith(database.schema_prefix()):
                    conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
