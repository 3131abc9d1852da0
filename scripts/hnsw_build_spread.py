"""How much an HNSW graph's recall moves from one build to the next, against a lower ef_construction.

Issue 24 wants a lower `ef_construction` flagged on QPS at recall 0.95. That is only possible if the
plant moves recall further than two builds with the same settings differ: pgvector draws each
element's level at random (PostgreSQL's global PRNG, seeded per backend, not settable from SQL),
so every build is a different graph. This script builds the vector-search grid's HNSW tables (the
suite's seeded clustered data, m 8 and 16) BUILDS times per ef_construction, sweeps ef_search as
`benchmarks/vector_frontier.py` does, and prints per build the recall@10 of each point and the QPS
at recall 0.95 and 0.99 read off the frontier (`veracity.bench.frontier`), then per ef_construction
the range of each point's recall over the builds.

Recall does not depend on the machine's load (same data, same graph, exact ground truth); the QPS
columns do, so read them on a quiet machine only.

    PYTHONPATH=. OMP_NUM_THREADS=1 .venv/bin/python scripts/hnsw_build_spread.py --vectors 10000 \\
        --ef-construction 64,32,16 --builds 3

`--average B` then asks what the frontier benchmark sees, which averages each point over
`FRONTIER_BUILDS` builds: for 200 seeded groups of B builds per ef_construction, QPS at each target
read off the points' mean recall, with one QPS per point for every group (the median over all
builds of all values), so that only recall tells the groups apart; it prints the 5th, 50th and
95th percentile and how many groups never reached the target. `--load` reads builds written by
`--json` earlier (several files are pooled) instead of building.

ef_construction below 2*m is skipped for that m (pgvector refuses it). Tables are built in the
embedded server (or VERACITY_DATABASE_URL) under dated benchmark schemas that the suite's next run
drops.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import vector_search as grid
from benchmarks.database import database_dsn
from benchmarks.vector_frontier import HNSW_EF_SWEEP, point_label
from veracity.bench.frontier import SweepPoint, qps_at_recall
from veracity.pipeline.store import IndexSpec

TARGETS = (0.95, 0.99)


def one_build(dsn: str, n: int, ef_construction: int) -> list[SweepPoint]:
    """Build each m's table once with `ef_construction` and measure every ef_search of the sweep."""
    points = []
    for m in grid.HNSW_M:
        if ef_construction < 2 * m:
            continue
        schema, _, _ = grid.build_table(dsn, n, IndexSpec("hnsw", m=m, ef_construction=ef_construction))
        for ef in HNSW_EF_SWEEP:
            spec = IndexSpec("hnsw", m=m, ef_construction=ef_construction, ef_search=ef)
            row = grid.measure(dsn, schema, n, spec)
            points.append(SweepPoint(row["recall@10"], 1000.0 / row["p50"], {"build": m, "search": ef}))
    return points


def label(point: SweepPoint) -> str:
    """The point's name as the frontier benchmarks and the site name it: `m=16 ef_search=40`."""
    return point_label("hnsw", point.params)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--vectors", type=int, default=10_000, help="corpus size of the grid (default 10000)")
    parser.add_argument("--ef-construction", default="64,32", help="comma-separated values (default 64,32)")
    parser.add_argument("--builds", type=int, default=3, help="builds per value (default 3)")
    parser.add_argument("--json", type=Path, help="also write every build's points here")
    parser.add_argument("--load", type=Path, nargs="+", help="read builds from these --json files instead")
    parser.add_argument("--average", type=int, metavar="B", help="QPS at each target of B-build averages")
    args = parser.parse_args(argv)

    if args.load:
        runs = load_runs(args.load)
        values = sorted(runs, reverse=True)
    else:
        values = [int(v) for v in args.ef_construction.split(",")]
        runs = build_runs(args.vectors, values, args.builds)
    print_recall_ranges(runs, values, args.vectors)
    if args.average:
        print_averaged(runs, values, args.average)
    if args.json:
        data = {
            str(efc): [[{"recall": p.recall, "qps": p.qps, **p.params} for p in build] for build in builds]
            for efc, builds in runs.items()
        }
        args.json.write_text(json.dumps({"vectors": args.vectors, "builds": data}, indent=1))
    return 0


def build_runs(n: int, values: list[int], builds: int) -> dict[int, list[list[SweepPoint]]]:
    """`builds` builds per ef_construction, each build's sweep printed with its QPS at the targets."""
    dsn = database_dsn()
    runs: dict[int, list[list[SweepPoint]]] = {}
    for efc in values:
        for b in range(builds):
            points = one_build(dsn, n, efc)
            runs.setdefault(efc, []).append(points)
            at = {t: qps_at_recall(points, t) for t in TARGETS}
            cells = "  ".join(
                f"QPS@{t}: {'never' if math.isnan(a.qps) else f'{a.qps:.0f} ({label(a.reached_by)})'}"
                for t, a in at.items()
            )
            print(f"{n} vectors, ef_construction {efc}, build {b + 1}: {cells}", flush=True)
    return runs


def load_runs(paths: list[Path]) -> dict[int, list[list[SweepPoint]]]:
    runs: dict[int, list[list[SweepPoint]]] = {}
    for path in paths:
        for efc, builds in json.loads(path.read_text())["builds"].items():
            for build in builds:
                points = [
                    SweepPoint(p["recall"], p["qps"], {"build": p["build"], "search": p["search"]}) for p in build
                ]
                runs.setdefault(int(efc), []).append(points)
    return runs


def print_averaged(runs: dict[int, list[list[SweepPoint]]], values: list[int], group: int) -> None:
    """QPS at each target of `group`-build averages (mean recall per point, one common QPS per point)."""
    names = [label(p) for p in runs[values[0]][0]]
    common = {
        name: statistics.median(
            p.qps for builds in runs.values() for build in builds for p in build if label(p) == name
        )
        for name in names
    }
    rng = random.Random(0)
    print()
    print(f"QPS at recall, {group}-build averages (200 groups; recall averaged, one QPS per point for all)")
    for efc in values:
        builds = runs[efc]
        cells = []
        for target in TARGETS:
            seen = []
            for _ in range(200):
                chosen = rng.sample(builds, group)
                points = [
                    SweepPoint(statistics.fmean(b[i].recall for b in chosen), common[name], chosen[0][i].params)
                    for i, name in enumerate(names)
                ]
                at = qps_at_recall(points, target)
                seen.append(0.0 if math.isnan(at.qps) else at.qps)
            seen.sort()
            never = sum(v == 0.0 for v in seen)
            cells.append(f"@{target}: {seen[10]:.0f} / {seen[100]:.0f} / {seen[189]:.0f}, never {never}/200")
        print(f"ef_construction {efc} ({len(builds)} builds): p5 / p50 / p95 " + "; ".join(cells))


def print_recall_ranges(runs: dict[int, list[list[SweepPoint]]], values: list[int], n: int) -> None:
    builds = min(len(b) for b in runs.values())
    print()
    print(f"recall@10 over {builds}+ builds (min-max), {n} vectors")
    order = sorted({(p.params["build"], p.params["search"]) for builds in runs.values() for p in builds[0]})
    labels = [point_label("hnsw", {"build": m, "search": ef}) for m, ef in order]
    print("| point | " + " | ".join(f"efc {efc}" for efc in values) + " |")
    print("|---|" + "---|" * len(values))
    for name in labels:
        cells = []
        for efc in values:
            seen = [p.recall for build in runs[efc] for p in build if label(p) == name]
            cells.append(f"{min(seen):.3f}-{max(seen):.3f}" if seen else "-")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
