"""Instruction counts per stage: one callgrind run of `benchmarks.work_child` against a PostgreSQL
served under callgrind, parsed into {figure: value}.

Lives in the suite, not in `veracity`: asv runs the working tree's suite against every commit it
measures, so the instrument stays the same while only the code under test changes (and commits
from before it existed are measured too).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from benchmarks.callgrind import client_requests, dumps_of, find_valgrind
from benchmarks.work_server import SERVER_PREFIX, Tables, served_under_callgrind, template, template_key

CLIENT_PREFIX = "py"  # callgrind output files of the child: py.<pid>.out[.<n>]
CHILD_TIMEOUT_S = 1500
REPO_ROOT = Path(__file__).resolve().parent.parent
STAGES = ("embedding", "nli", "vector_search", "pipeline")
SERVER_STAGES = ("vector_search", "pipeline")
CALLGRIND_CLIENT_OPTIONS = ("--instr-atstart=no", "--collect-atstart=no")


def template_root() -> Path:
    from benchmarks.common import settings

    return settings().cache_dir / "workcount"


def _build_tables(dsn: str, tables: list[tuple[str, np.ndarray, object]]) -> Tables:
    """Load each table with the product's own store, index it and settle it; keep the schemas."""
    from benchmarks.database import keep_table, settle_table
    from veracity.pipeline.pgvector_store import PgVectorStore

    schemas = []
    for prefix, vectors, spec in tables:
        store = PgVectorStore(dsn, vectors.shape[1], spec, schema_prefix=prefix)
        store.load(np.arange(len(vectors)), vectors)
        keep_table(store)
        settle_table(dsn, store.schema)
        schemas.append(store.schema)
    return Tables(search=schemas[0], corpus=schemas[1])


def prepared_template(root: Path | None = None):
    """The template data directory (built once per server build, data and index specs) and its tables."""
    from benchmarks.pipeline import corpus_vectors
    from benchmarks.vector_search import dataset
    from benchmarks.work_child import SEARCH_VECTORS
    from veracity.pipeline.store import IndexSpec

    search_spec, corpus_spec = IndexSpec("hnsw", m=16, ef_search=40), IndexSpec("hnsw")
    search_vectors, corpus = dataset(SEARCH_VECTORS)[0], corpus_vectors()
    key = template_key(search_vectors, corpus, (search_spec, corpus_spec))
    specs = [("workcount_search", search_vectors, search_spec), ("workcount_corpus", corpus, corpus_spec)]
    data, tables = template(root or template_root(), key, lambda dsn: _build_tables(dsn, specs))
    return data, tables, search_spec, corpus_spec


def _run_child(valgrind: str, request: dict, out_dir: Path) -> dict:
    request_path = out_dir / "request.json"
    request_path.write_text(json.dumps(request))
    env = {
        **os.environ,
        "PYTHONHASHSEED": "0",  # str hashes, hence dict and set orders, the same in every run
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "VERACITY_DATABASE_URL": request["dsn"],
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    command = [
        valgrind,
        "--tool=callgrind",
        *CALLGRIND_CLIENT_OPTIONS,
        f"--callgrind-out-file={out_dir}/{CLIENT_PREFIX}.%p.out",
        f"--log-file={out_dir}/{CLIENT_PREFIX}-valgrind.%p.log",
        sys.executable,
        "-m",
        "benchmarks.work_child",
        str(request_path),
    ]
    done = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"the work-count child failed (exit {done.returncode}): {tail}")
    return json.loads(Path(request["result"]).read_text())


def counts_from(out_dir: Path, child: dict) -> dict[str, float]:
    """{stage: instructions} from the dump files: the child's labelled dumps, plus for the stages that
    search, the backend's per-statement dumps written during the body (`<stage>_server` alone)."""
    client = {
        dump.trigger.removeprefix("Client Request: "): dump.instructions
        for dump in dumps_of(out_dir, CLIENT_PREFIX)
        if dump.part > 0
    }
    figures: dict[str, float] = {}
    for stage in STAGES:
        if stage not in client:
            raise RuntimeError(f"callgrind wrote no dump for the {stage} body in {out_dir}")
        figures[stage] = client[stage]
        info = child["stages"][stage]
        if info["backend_pid"]:
            first, last = info["server_parts"]
            parts = [d for d in dumps_of(out_dir, SERVER_PREFIX, info["backend_pid"]) if first <= d.part <= last]
            if not parts:
                raise RuntimeError(f"the {stage} body left no server dump (backend {info['backend_pid']})")
            figures[f"{stage}_server"] = sum(d.instructions for d in parts)
            figures[stage] += figures[f"{stage}_server"]
    if child.get("search_buffers") is not None:
        figures["search_buffers"] = child["search_buffers"]
    return figures


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(keep: Path | None = None) -> dict[str, float]:
    """Every stage's instruction count, and what the run cost (`seconds`, `cpu_seconds`).

    `keep` names a folder to leave callgrind's files in (for `callgrind_annotate`); else they go.
    """
    valgrind = find_valgrind()
    client_requests()  # NotImplementedError off x86-64, before anything is built
    started, cpu_started = time.perf_counter(), _children_cpu_seconds()
    data, tables, search_spec, corpus_spec = prepared_template()
    prepared = time.perf_counter()
    out_dir = Path(tempfile.mkdtemp(prefix="veracity-callgrind-", dir=keep))
    try:
        with served_under_callgrind(data, out_dir) as dsn:
            request = {
                "dsn": dsn,
                "search": tables.search,
                "corpus": tables.corpus,
                "search_spec": asdict(search_spec),
                "corpus_spec": asdict(corpus_spec),
                "out_dir": str(out_dir),
                "result": str(out_dir / "result.json"),
            }
            child = _run_child(valgrind, request, out_dir)
        figures = counts_from(out_dir, child)
    finally:
        if keep is None:
            shutil.rmtree(out_dir, ignore_errors=True)
    figures["template_seconds"] = prepared - started
    figures["seconds"] = time.perf_counter() - started
    figures["cpu_seconds"] = _children_cpu_seconds() - cpu_started
    figures["child_setup_seconds"] = child["setup_seconds"]
    for stage in STAGES:
        figures[f"{stage}_seconds"] = child["stages"][stage]["seconds"]
    return figures
