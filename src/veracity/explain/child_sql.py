"""The profiler child's SQL pass: the statements one call sends, and EXPLAIN (ANALYZE, BUFFERS) of each SELECT.

Part of profile_child.py (run as a script against a commit's code): imports nothing from `veracity`.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Callable
from typing import Any

SQL_EXPLAIN_REPEATS = 3
# Benchmark and store schemas carry a time, a pid and random hex: one statement reads the same at both commits.
SCHEMA_NAME = re.compile(r'"veracity_[A-Za-z0-9_]+"')
READ_ONLY = re.compile(r"\s*(select|with|values|table)\b", re.IGNORECASE)


def _statement_text(query: Any, conn: Any) -> str:
    text = query if isinstance(query, str) else query.as_string(conn)
    return SCHEMA_NAME.sub('"<schema>"', " ".join(text.split()))


def _explain(cursor_execute: Callable, conn: Any, query: Any, params: Any) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of one statement on the connection that ran it; best of a few runs."""
    from psycopg import sql

    statement = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ") + (
        sql.SQL(query) if isinstance(query, str) else query
    )
    best: dict | None = None
    for _ in range(SQL_EXPLAIN_REPEATS):
        cursor = conn.cursor()
        cursor_execute(cursor, statement, params)
        document = cursor.fetchone()[0]
        document = json.loads(document) if isinstance(document, str) else document
        top = document[0]
        plan = top["Plan"]
        row = {
            "execution_ms": float(top.get("Execution Time", 0.0)),
            "planning_ms": float(top.get("Planning Time", 0.0)),
            "shared_hit": int(plan.get("Shared Hit Blocks", 0)),
            "shared_read": int(plan.get("Shared Read Blocks", 0)),
            "rows": int(plan.get("Actual Rows", 0)),
            "nodes": _node_names(plan),
        }
        if best is None or row["execution_ms"] < best["execution_ms"]:
            best = row
    assert best is not None
    return best


def _node_names(plan: dict) -> list[str]:
    name = plan.get("Node Type", "?")
    if plan.get("Index Name"):
        name += f" using {plan['Index Name']}"
    return [name, *(n for child in plan.get("Plans", []) for n in _node_names(child))]


def sql_pass(body: Callable[[], Any]) -> list[dict] | None:
    """The statements one call of the body sends, client seconds each, and each SELECT's plan."""
    if "psycopg" not in sys.modules:
        return None
    import psycopg

    original = psycopg.Cursor.execute
    seen: list[tuple[Any, Any, Any, float]] = []

    def execute(self, query, params=None, **kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return original(self, query, params, **kwargs)
        finally:
            seen.append((self.connection, query, params, time.perf_counter() - start))

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    try:
        body()
    finally:
        psycopg.Cursor.execute = original  # type: ignore[method-assign]
    if not seen:
        return None
    rows: dict[str, dict] = {}
    for conn, query, params, seconds in seen:
        text = _statement_text(query, conn)
        row = rows.setdefault(text, {"key": text, "calls": 0, "client_s": 0.0, "plan": None})
        row["calls"] += 1
        row["client_s"] += seconds
        if row["plan"] is None and READ_ONLY.match(text):
            try:
                row["plan"] = _explain(original, conn, query, params)
            except psycopg.Error as exc:
                row["plan"] = {"error": f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"}
    return list(rows.values())
