"""The process the work counts run under callgrind: models and connections set up uninstrumented, then
each stage's body counted alone.

Run as `python -m benchmarks.work_child REQUEST.json` by `benchmarks.workcount`, never by asv (it
has no benchmarks). callgrind starts it with instrumentation off (`--instr-atstart=no`), so the
imports, the model loads and the connections cost valgrind's translation only. Each body runs once
uninstrumented first (lazy initialisation, allocator pools, oneDNN's JIT, prepared statements),
then instrumentation starts and each body is counted between a zero and a labelled dump. The
garbage collector is frozen and off while counting: a collection landing in a body would depend on
what the process allocated before it.
"""

from __future__ import annotations

import faulthandler
import gc
import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Small bodies: callgrind runs vectorised model code 100-300x slower than natively.
EMBED_TEXTS = 4
NLI_PAIRS = 2
SEARCH_QUERIES = 50
SEARCH_VECTORS = 10_000
SEARCH_K = 10
PIPELINE_CLAIMS = 1
PIPELINE_TOP_K = 2


@dataclass
class Stage:
    """One counted body and its smaller warm-up (None: the body's first use is part of the body).

    `store` is the PgVectorStore whose backend does the body's server work.
    """

    name: str
    body: Callable[[], object]
    warm: Callable[[], object] | None
    store: object | None = None


def backend_pid(store) -> int:
    return int(store._conn.execute("SELECT pg_backend_pid()").fetchone()[0])


def search_buffers(store, queries, k: int) -> int | None:
    """Shared buffers the search statement touches over the query set (hits + reads, EXPLAIN BUFFERS).

    Run after the counted body, on the same connection and settings: the statement the product sends,
    executed again under EXPLAIN (ANALYZE, BUFFERS). None on a commit whose store keeps no `_query`.
    """
    from psycopg import sql

    statement = getattr(store, "_query", None)
    if statement is None:
        return None
    explain = sql.SQL("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, FORMAT JSON) ") + statement
    total = 0
    for query in queries:
        plan = store._conn.execute(explain, (query, k)).fetchone()[0][0]["Plan"]
        total += int(plan.get("Shared Hit Blocks", 0)) + int(plan.get("Shared Read Blocks", 0))
    return total


def stages(request: dict) -> list[Stage]:
    """The four bodies, on seeded data that is the same on every machine and commit."""
    from benchmarks.models import embedder, mixed_pairs, nli_model, short_texts
    from benchmarks.vector_search import DIM, queries
    from veracity.data import load_claims
    from veracity.pipeline.pgvector_store import PgVectorStore
    from veracity.pipeline.session import corpus_units
    from veracity.pipeline.store import IndexSpec
    from veracity.pipeline.verify import Verifier

    texts = list(short_texts(EMBED_TEXTS))
    pairs = list(mixed_pairs(3 * NLI_PAIRS)[1::3][:NLI_PAIRS])  # single-passage premises (every third is two)
    search_queries, warm_queries = queries(SEARCH_VECTORS)[:SEARCH_QUERIES], queries(SEARCH_VECTORS)[-5:]
    search_store = PgVectorStore(request["dsn"], DIM, IndexSpec(**request["search_spec"]), attach=request["search"])
    corpus_spec = IndexSpec(**request["corpus_spec"])
    corpus_store = PgVectorStore(request["dsn"], embedder().dim, corpus_spec, attach=request["corpus"])
    verifier = Verifier(embedder(), nli_model(), corpus_store, corpus_units(), top_k=PIPELINE_TOP_K)
    claims = [claim.claim for claim in load_claims()[:PIPELINE_CLAIMS]]

    def search(rows) -> None:
        for query in rows:
            search_store.search(query, SEARCH_K)

    return [
        Stage("embedding", lambda: embedder().encode(texts), lambda: embedder().encode(texts[:1])),
        Stage("nli", lambda: nli_model().predict(pairs), lambda: nli_model().predict(pairs[:1])),
        Stage("vector_search", lambda: search(search_queries), lambda: search(warm_queries), search_store),
        Stage("pipeline", lambda: list(verifier.verify_many(claims)), None, corpus_store),
    ]


def count(request: dict) -> dict:
    from benchmarks.callgrind import client_requests, dump_count
    from benchmarks.work_server import SERVER_PREFIX

    started = time.perf_counter()
    out_dir = Path(request["out_dir"])
    requests = client_requests()
    plan = stages(request)
    pids = {stage.name: backend_pid(stage.store) for stage in plan if stage.store is not None}
    for stage in plan:  # warm: lazy initialisation and first-use costs stay out of the counts
        if stage.warm is not None:
            stage.warm()
    gc.collect()
    gc.freeze()
    gc.disable()
    setup_seconds = time.perf_counter() - started
    requests.start_instrumentation()
    result: dict = {"stages": {}, "running_on_valgrind": requests.running_on_valgrind()}
    for stage in plan:
        stage_started = time.perf_counter()
        pid = pids.get(stage.name)
        before = dump_count(out_dir, SERVER_PREFIX, pid) if pid else 0
        requests.zero_stats()
        requests.toggle_collect()
        stage.body()
        requests.toggle_collect()
        requests.dump_stats_at(stage.name)
        after = dump_count(out_dir, SERVER_PREFIX, pid) if pid else 0
        result["stages"][stage.name] = {
            "backend_pid": pid,
            "server_parts": [before + 1, after],
            "seconds": time.perf_counter() - stage_started,
        }
    requests.stop_instrumentation()
    gc.enable()
    search = next(stage for stage in plan if stage.name == "vector_search")
    from benchmarks.vector_search import queries

    result["search_buffers"] = search_buffers(search.store, queries(SEARCH_VECTORS)[:SEARCH_QUERIES], SEARCH_K)
    result["setup_seconds"] = setup_seconds
    for stage in plan:
        if stage.store is not None:
            stage.store.close()
    return result


def main(argv: list[str]) -> int:
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints where a slow run is
    request_path = Path(argv[1])
    request = json.loads(request_path.read_text())
    result = count(request)
    Path(request["result"]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
