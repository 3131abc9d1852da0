"""A/A and planted-work campaign for the work counts (issue 18): prints the tables the note quotes.

    .venv/bin/python scripts/work_campaign.py --runs 6 --planted-runs 6

A/A: `--runs` callgrind runs of the working tree (`benchmarks.workcount.measure`), each stage's count
per run, the spread (max/min - 1) and how many runs a 1% floor flags against the A/A median.
Planted: a scratch copy of `src/` gets extra work sized at PLANT of each stage's A/A median (pure
Python iterations, whose instructions per iteration are counted under callgrind first), in the
stage's own code path: `Embedder.encode` (per text), `NliModel.predict` (per pair),
`PgVectorStore.search` (every 50th query runs twice: one query more in 50) and `Verifier.verify_many`
(per claim). The working tree is never touched; each planted run imports the scratch copy first
(PYTHONPATH) and the run checks which copy it imported. Each planted run is judged against the A/A
median with the same floor. Every figure is a subprocess of its own, so runs share nothing but the
template data directory (the same index bytes, which is the point).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the suite's helpers (benchmarks.*)
STAGES = ("embedding", "nli", "vector_search", "pipeline", "vector_search_server", "pipeline_server", "search_buffers")
FLOOR = 0.01  # tracking's floor for the unit "instructions"
PLANT = 0.02
# The same instructions per iteration at any size (`i * i` would turn multi-digit past 2**15).
WORK_LOOP = "sum(1 for _ in range({n}))"

MEASURE = textwrap.dedent(
    """
    import json, sys
    sys.path.insert(0, {root!r})
    import veracity
    from benchmarks.workcount import measure
    figures = measure()
    figures["veracity_file"] = veracity.__file__
    print("FIGURES " + json.dumps(figures), flush=True)
    """
)


def run_once(src: Path | None = None) -> dict:
    """One callgrind measurement in a fresh interpreter, importing `src` (a scratch copy) first if given."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", MEASURE.format(root=str(ROOT))], env=env, capture_output=True, text=True, check=False
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("FIGURES ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"work_campaign: a measurement failed: {done.stderr.strip().splitlines()[-3:]}")
    figures = json.loads(lines[-1].removeprefix("FIGURES "))
    expected = (src or ROOT / "src") / "veracity" / "__init__.py"
    if Path(figures["veracity_file"]).resolve() != expected.resolve():
        raise SystemExit(f"work_campaign: the run imported {figures['veracity_file']}, not {expected}")
    return figures


def loop_instructions() -> float:
    """Instructions per iteration of WORK_LOOP, counted under callgrind (the plant's unit of work)."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "loop.py"
        script.write_text(
            textwrap.dedent(
                f"""
                import sys
                sys.path.insert(0, {str(ROOT)!r})
                from benchmarks.callgrind import client_requests
                requests = client_requests()
                requests.start_instrumentation()
                for label, n in (("small", 2000), ("large", 12000)):
                    requests.zero_stats(); requests.toggle_collect()
                    {WORK_LOOP.format(n="n")}
                    requests.toggle_collect(); requests.dump_stats_at(label)
                """
            )
        )
        from benchmarks.callgrind import dumps_of, find_valgrind

        subprocess.run(
            [
                find_valgrind(),
                "--tool=callgrind",
                "--instr-atstart=no",
                "--collect-atstart=no",
                f"--callgrind-out-file={tmp}/loop.%p.out",
                f"--log-file={tmp}/valgrind.log",
                sys.executable,
                str(script),
            ],
            check=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        dumps = [dump for dump in dumps_of(Path(tmp), "loop") if dump.part]
        counts = {dump.trigger.removeprefix("Client Request: "): dump.instructions for dump in dumps}
    return (counts["large"] - counts["small"]) / 10000


def plant(scratch: Path, baseline: dict[str, float], per_iteration: float) -> dict[str, int]:
    """Copy src/ into `scratch` and add PLANT of each stage's work in its own code path; returns the sizes."""
    from benchmarks.work_child import EMBED_TEXTS, NLI_PAIRS, PIPELINE_CLAIMS

    shutil.copytree(ROOT / "src", scratch, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    sizes = {
        "embedding": round(PLANT * baseline["embedding"] / per_iteration / EMBED_TEXTS),
        "nli": round(PLANT * baseline["nli"] / per_iteration / NLI_PAIRS),
        "pipeline": round(PLANT * baseline["pipeline"] / per_iteration / PIPELINE_CLAIMS),
    }
    edits = {
        "veracity/pipeline/embedding.py": (
            '        check_texts(texts, what="text")\n',
            '        check_texts(texts, what="text")\n'
            f"        for _ in texts:\n            {WORK_LOOP.format(n=sizes['embedding'])}  # PLANT\n",
        ),
        "veracity/pipeline/nli.py": (
            "        forward = forward or self._forward\n        premises",
            "        forward = forward or self._forward\n"
            f"        for _ in pairs:\n            {WORK_LOOP.format(n=sizes['nli'])}  # PLANT\n        premises",
        ),
        "veracity/pipeline/pgvector_store.py": (
            "            rows = self._conn.execute(self._query, (vector, k), prepare=True).fetchall()\n",
            "            rows = self._conn.execute(self._query, (vector, k), prepare=True).fetchall()\n"
            "            self._planted = getattr(self, '_planted', 0) + 1  # PLANT: one query more in 50\n"
            "            if self._planted % 50 == 0:\n"
            "                rows = self._conn.execute(self._query, (vector, k), prepare=True).fetchall()\n",
        ),
        "veracity/pipeline/verify.py": (
            "        for claim in claims:\n",
            f"        for claim in claims:\n            {WORK_LOOP.format(n=sizes['pipeline'])}  # PLANT\n",
        ),
    }
    for name, (old, new) in edits.items():
        path = scratch / name
        text = path.read_text()
        if text.count(old) != 1:
            raise SystemExit(f"work_campaign: the plant's anchor is not found once in {name}")
        path.write_text(text.replace(old, new))
    return sizes


def hnsw_build_spread(builds: int) -> list[tuple[str, int]]:
    """Server instructions of the vector-search body's 50 queries on the template's index and on
    `builds` fresh builds of it (REINDEX: new random HNSW levels), each on a fresh server copy.

    What searching one fixed template buys: the same index gives the same count; a rebuilt graph
    searches a different amount of work. The client here is native (psycopg only, no models).
    """
    from benchmarks.callgrind import dump_count, dumps_of
    from benchmarks.vector_search import DIM, queries
    from benchmarks.work_child import SEARCH_K, SEARCH_QUERIES, SEARCH_VECTORS
    from benchmarks.work_server import (
        SERVER_PREFIX,
        _give_to,
        _pgserver,
        _wait_stopped,
        served_under_callgrind,
        server_user,
    )
    from benchmarks.workcount import prepared_template
    from veracity.db.server import connect
    from veracity.pipeline.pgvector_store import PgVectorStore

    data, tables, search_spec, _ = prepared_template()
    rows = []
    for build in range(builds + 2):  # the template twice, then the rebuilds
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp).chmod(0o755)  # the server's own user must reach its output folder
            copy, out = Path(tmp) / "pgdata", Path(tmp) / "out"
            shutil.copytree(data, copy, symlinks=True)
            out.mkdir()
            if build >= 2:
                _give_to(Path(tmp), server_user())
                server = _pgserver().get_server(copy, cleanup_mode="stop")
                with connect(server.get_uri()) as conn:
                    conn.execute(f'REINDEX INDEX "{tables.search}".vectors_hnsw_idx')
                    conn.execute("CHECKPOINT")
                server.cleanup()
                _wait_stopped(copy)
            with served_under_callgrind(copy, out) as dsn:
                store = PgVectorStore(dsn, DIM, search_spec, attach=tables.search)
                pid = int(store._conn.execute("SELECT pg_backend_pid()").fetchone()[0])
                first = dump_count(out, SERVER_PREFIX, pid) + 1
                for query in queries(SEARCH_VECTORS)[:SEARCH_QUERIES]:
                    store.search(query, SEARCH_K)
                last = dump_count(out, SERVER_PREFIX, pid)
                store.close()
                dumps = [d for d in dumps_of(out, SERVER_PREFIX, pid) if first <= d.part <= last]
            label = "template" if build < 2 else f"rebuild {build - 1}"
            rows.append((label, sum(d.instructions for d in dumps)))
            print(f"work_campaign: HNSW {label}: {rows[-1][1]:,} server instructions", flush=True)
    return rows


def spreads(runs: list[dict]) -> dict[str, float]:
    """Each figure's spread over the runs, max/min - 1 (the A/A acceptance: every stage within 0.5%)."""
    out = {}
    for stage in STAGES:
        values = [run[stage] for run in runs if stage in run]
        if values and min(values) > 0:
            out[stage] = max(values) / min(values) - 1
    return out


def measured(count: int, jobs: int, label: str, src: Path | None = None) -> list[dict]:
    """`count` runs, `jobs` at a time: counts do not depend on the neighbours, so parallel runs cost
    wall clock only (the `seconds` figure of a parallel run is not the quiet cost; `cpu_seconds` is)."""
    runs: list[dict] = []
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for number, figures in enumerate(pool.map(lambda _: run_once(src), range(count))):
            runs.append(figures)
            print(f"work_campaign: {label} {number + 1}/{count}: {json.dumps(figures)}", flush=True)
    return runs


def table(title: str, runs: list[dict], baseline: dict[str, float]) -> None:
    print(f"\n{title}")
    header = "".join(f"{'run ' + str(i + 1):>15}" for i in range(len(runs)))
    print(f"{'stage':<22}{header}   spread   ratio  flags")
    spread_of = spreads(runs)  # the figure the A/A check judges, printed as it judges it
    for stage in STAGES:
        values = [run[stage] for run in runs if stage in run]
        if not values:
            continue
        spread = spread_of.get(stage, float("nan"))
        ratio = statistics.median(values) / baseline[stage]
        flags = sum(abs(value / baseline[stage] - 1) > FLOOR for value in values)
        cells = "".join(f"{value:>15,.0f}" for value in values)
        print(f"{stage:<22}{cells}  {spread:>6.3%}  {ratio:>6.4f}  {flags}/{len(values)}")
    costs = [run["seconds"] for run in runs]
    cpu = [run["cpu_seconds"] for run in runs]
    print(f"{'cost (wall s)':<22}" + "".join(f"{c:>15.0f}" for c in costs))
    print(f"{'cost (CPU s)':<22}" + "".join(f"{c:>15.0f}" for c in cpu))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6, help="A/A runs of the working tree")
    parser.add_argument("--planted-runs", type=int, default=6, help="runs with every stage's plant")
    parser.add_argument("--hnsw-builds", type=int, default=0, help="only: server counts on the template vs rebuilds")
    parser.add_argument("--baseline", type=Path, help="A/A runs saved earlier (--save): added to this campaign's")
    parser.add_argument("--planted-from", type=Path, help="planted runs saved earlier (--save): added to this one's")
    parser.add_argument("--save", type=Path, help="write this campaign's runs as JSON (A/A and planted)")
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (counts do not depend on load)")
    parser.add_argument("--max-spread", type=float, help="exit 1 when an A/A figure spreads past this (0.005)")
    args = parser.parse_args()
    if args.hnsw_builds:
        rows = hnsw_build_spread(args.hnsw_builds)
        template = rows[0][1]
        for label, value in rows:
            print(f"{label:<12}{value:>16,}  {value / template - 1:+.3%}")
        return 0
    aa = json.loads(args.baseline.read_text())["aa"] if args.baseline else []
    aa += measured(args.runs, args.jobs, "A/A run")
    baseline = {stage: statistics.median(run[stage] for run in aa) for stage in STAGES if stage in aa[0]}
    table("A/A (each run against the A/A median)", aa, baseline)
    planted = json.loads(args.planted_from.read_text())["planted"] if args.planted_from else []
    if args.planted_runs:
        per_iteration = loop_instructions()
        with tempfile.TemporaryDirectory() as tmp:
            sizes = plant(Path(tmp) / "src", baseline, per_iteration)
            print(f"\nwork_campaign: plant sizes {sizes} (loop iterations of {per_iteration:.1f} instructions)")
            planted += measured(args.planted_runs, args.jobs, "planted", Path(tmp) / "src")
    if args.save:
        args.save.write_text(json.dumps({"aa": aa, "planted": planted}))
    if planted:
        table(f"Planted +{PLANT:.0%} per stage (each run against the A/A median)", planted, baseline)
    print(f"\nCPU: {cpu_model()}")
    wide = {stage: spread for stage, spread in spreads(aa).items() if args.max_spread and spread > args.max_spread}
    for stage, spread in wide.items():
        print(f"work_campaign: the A/A spread of {stage} is {spread:.3%}, past {args.max_spread:.2%}")
    return 1 if wide else 0


def cpu_model() -> str:
    text = Path("/proc/cpuinfo").read_text()
    name = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("model name")), "?")
    flags = sorted({flag for flag in text.split() if flag.startswith("avx512") or flag == "avx2"})
    return f"{name}, {os.cpu_count()} CPUs, {' '.join(flags)}"


if __name__ == "__main__":
    sys.exit(main())
