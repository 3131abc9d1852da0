"""One embedded PostgreSQL for a whole benchmark run, and the benchmark schemas dropped when it ends."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from veracity.config import Settings
from veracity.errors import VeracityError

# Every schema the suite creates starts with this (see benchmarks/); LIKE pattern, `_` escaped.
BENCH_SCHEMA_PATTERN = "veracity\\_%"


@contextlib.contextmanager
def shared_database(settings: Settings) -> Iterator[dict[str, str]]:
    """One embedded server for the whole run (benchmark processes `_exit` and cannot stop it).

    Yields the variables that point the benchmark processes at it (none for a user's own DSN).
    """
    if settings.database_url:
        yield {}
        return
    from veracity.db.server import EmbeddedServer, stop_embedded

    dsn = EmbeddedServer(settings.cache_dir, keep_running=True).start()
    try:
        yield {"VERACITY_DATABASE_URL": dsn}
    finally:
        drop_bench_schemas(dsn)
        stop_embedded(settings.cache_dir)


def drop_bench_schemas(dsn: str) -> None:
    """Drop every schema a benchmark left behind; a lost server is not an error here."""
    from psycopg import sql

    from veracity.db.server import connect

    with contextlib.suppress(VeracityError), connect(dsn) as conn:
        query = "SELECT nspname FROM pg_namespace WHERE nspname LIKE %s"
        for (name,) in conn.execute(query, (BENCH_SCHEMA_PATTERN,)).fetchall():
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))
