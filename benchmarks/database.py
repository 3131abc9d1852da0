"""The database the suite runs against, and the lifecycle of the benchmark schemas in it.

A benchmark table is loaded once and kept (asv `_exit`s its processes, so none drops its own) in a
schema named by `dated_prefix` or `schema_prefix`: the name says when, for which `asv run` and by
what code it was built, which is how later runs find the tables of finished runs and drop them.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time

import psutil
import psycopg
from psycopg import sql

from benchmarks.common import settings
from benchmarks.run_cache import code_identity, invocation_owner
from veracity.db.server import connect

# Every benchmark schema's name starts with this; the rest is `_<unix time>[_<owner pid>_<code identity>]_<hex>`.
SCHEMA_PREFIX = "veracity_bench"
STALE_AFTER_S = 6 * 3600
KEEP_CODE_IDENTITIES = 2


def database_dsn() -> str:
    """VERACITY_DATABASE_URL (set by `make bench` to the server it started), else the embedded server."""
    url = os.environ.get("VERACITY_DATABASE_URL")
    if url:
        return url
    return _embedded_dsn()


@functools.cache
def _embedded_dsn() -> str:
    from veracity.db.server import EmbeddedServer

    # Kept running: asv forks and `_exit`s benchmark processes, so no handle would ever be released
    # cleanly; `make bench` (or `veracity db stop`) stops it when the run is over.
    return EmbeddedServer(settings().cache_dir, keep_running=True).start()


def dated_prefix() -> str:
    """`<SCHEMA_PREFIX>_<unix time>`: a table that goes by age (STALE_AFTER_S) or when `make bench` ends."""
    return f"{SCHEMA_PREFIX}_{int(time.time())}"


def schema_prefix() -> str:
    """`<SCHEMA_PREFIX>_<unix time>_<pid of the asv run>_<code identity>`: whose table, built by what code."""
    return f"{dated_prefix()}_{invocation_owner().pid}_{code_identity()}"


def _schema_fields(name: str) -> tuple[int, str, str] | None:
    """(unix time, owner pid or "", code identity or "") of a benchmark schema name; None if not one.

    Names before owners were recorded are `<SCHEMA_PREFIX>_<time>_<hex>`, before identities
    `<SCHEMA_PREFIX>_<time>_<pid>_<hex>`.
    """
    if not name.startswith(SCHEMA_PREFIX + "_"):
        return None
    fields = name.removeprefix(SCHEMA_PREFIX + "_").split("_")
    if len(fields) < 2 or not fields[0].isdigit():
        return None
    owner = fields[1] if len(fields) >= 3 else ""
    identity = fields[2] if len(fields) >= 4 else ""
    return int(fields[0]), owner, identity


def finished_run_schema(name: str, owner_pid: int | None = None) -> bool:
    """Whether a benchmark schema belongs to an `asv run` that is over: its owner process is gone, or
    it is older than STALE_AFTER_S (also how schemas named before owners were recorded go)."""
    fields = _schema_fields(name)
    if fields is None:
        return False
    stamp, owner, _ = fields
    if time.time() - stamp > STALE_AFTER_S:
        return True
    ours = invocation_owner().pid if owner_pid is None else owner_pid
    return owner.isdigit() and int(owner) != ours and not psutil.pid_exists(int(owner))


def evicted_schemas(names: list[str], owner_pid: int, identity: str, keep: int = KEEP_CODE_IDENTITIES) -> list[str]:
    """This run's schemas built by code other than the `keep` most recently built identities (this one
    counted): a run over many commits keeps a bounded set of tables, while an A/A twin or the next
    round of the same commits still finds its table."""
    ours = []
    for name in names:
        fields = _schema_fields(name)
        if fields is not None and fields[1] == str(owner_pid) and fields[2]:
            ours.append((fields[0], fields[2], name))
    recent = [identity]
    for _, other, _ in sorted(ours, reverse=True):
        if other not in recent:
            recent.append(other)
    kept = set(recent[:keep])
    return [name for _, other, name in ours if other not in kept]


def drop_finished_schemas(dsn: str) -> None:
    """Drop the tables of `asv run`s that are over, and this run's tables of evicted code identities.

    asv `_exit`s its benchmark processes, so none drops its own table; earlier runs' tables would
    otherwise stay for hours and crowd the buffer cache of the commits measured after them.
    """
    with connect(dsn) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", (SCHEMA_PREFIX + "_%",))
        names = [name for (name,) in rows.fetchall()]
        owner = invocation_owner().pid
        doomed = {name for name in names if finished_run_schema(name, owner)}
        doomed |= set(evicted_schemas(names, owner, code_identity()))
        for name in sorted(doomed):
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def schema_exists(dsn: str, schema: str) -> bool:
    with connect(dsn) as conn:
        return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() is not None


def keep_table(store) -> None:
    """Disconnect a loaded PgVectorStore but keep its schema for benchmark processes to attach to.

    `PgVectorStore.detach` exists from commit 3967b50 on; for older commits, closing the
    connection does the same (their `close()` would drop the schema).
    """
    detach = getattr(store, "detach", None)
    if detach is not None:
        detach()
    else:
        store._conn.close()


def settle_table(dsn: str, schema: str) -> None:
    """Leave the server no work on a new table that could land inside another benchmark's timing.

    Without this, autovacuum vacuums and analyses a freshly loaded table up to a minute later, and
    the checkpointer writes its pages out when it gets to them: both while the next parameter set,
    or the next commit of the same run, is being timed on the 2 CPUs. So: VACUUM (FREEZE, ANALYZE)
    now, autovacuum off for the table, and a CHECKPOINT (best effort: it needs the superuser or
    `pg_checkpoint`, which a user's own server may not grant).
    """
    with connect(dsn) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,)).fetchall()
        for (table,) in rows:
            name = sql.Identifier(schema, table)
            conn.execute(sql.SQL("VACUUM (FREEZE, ANALYZE) {}").format(name))
            conn.execute(sql.SQL("ALTER TABLE {} SET (autovacuum_enabled = off)").format(name))
        with contextlib.suppress(psycopg.Error):
            conn.execute("CHECKPOINT")
