"""Vector search at a recall: queries per second at recall@10 0.95 and 0.99, off the recall/QPS frontier.

As ann-benchmarks reads indexes: not the speed at one fixed parameter but the fastest configuration
of the sweep that reaches the recall (log-linear between the frontier's bracketing points). The
first build of each setting is the vector-search grid's own table (`vector_search.grid_table`,
shared in one `asv run`), the others are replicas of it; the search settings are swept finer here
(more ef_search and probes values, no rebuild), each point measured as the grid measures a row
(200 seeded queries, one round trip each).
QPS is 1000 / the median latency in ms, one connection.

Each point is averaged over several builds of its index (`FRONTIER_BUILDS`): pgvector draws HNSW
levels and IVFFlat's k-means sample from PostgreSQL's per-backend PRNG, which SQL cannot seed, so
two builds of the same settings are two different indexes. At 10k, recall@10 of one point moved
by up to 0.04 between builds (sd about 0.015, docs/load.md), as much as a worse build moves it;
the mean of B builds moves sqrt(B) times less. A point's recall is the mean over the builds and
its QPS the median over them.
"""

from __future__ import annotations

import math
import statistics

# The module, not its classes: a benchmark class imported here would be discovered (and run) a second
# time by asv as vector_frontier.HnswSearch, the whole grid over again.
from benchmarks import vector_search as grid
from benchmarks.common import Tracked, descriptive
from benchmarks.database import database_dsn
from benchmarks.run_cache import once_per_run
from veracity.pipeline.store import IndexSpec
from veracity.tracking.direction import higher_is_better

KINDS = ["hnsw", "ivfflat"]
FRONTIER_SIZES = [10_000, 50_000]
RECALLS = [0.95, 0.99]
HNSW_EF_SWEEP = [10, 16, 24, 32, 40, 64, 100]
IVF_PROBES_SWEEP = [1, 2, 3, 5, 7, 10, 15, 25]
FRONTIER_BUILDS = {10_000: 5, 50_000: 1}
"""Builds averaged per sweep point, by corpus size: fixed, never chosen by the hardware. The first
is the grid's own table; a 10k build takes seconds, a 50k HNSW build about a minute on 2 vCPU, so
50k stays at one build (its figures carry the build's randomness: docs/load.md)."""


class RecallFrontier(Tracked):
    """QPS at a recall@10 target per index kind and size, and the configuration that reached it."""

    params = [KINDS, FRONTIER_SIZES, RECALLS]
    param_names = ["index", "vectors", "recall"]
    timeout = 900

    def setup(self, kind: str, n: int, recall: float) -> None:
        self.at = at_recall(kind, n, recall)

    @higher_is_better("queries/s")
    def track_qps_at_recall(self, kind: str, n: int, recall: float) -> float:
        """0 where no configuration of the sweep reaches the recall: no speed at all at that recall (a
        figure, judged against the unit's absolute floor, not asv's n/a, which reads as a skipped run)."""
        return self.at["qps"]

    @descriptive("parameter")
    def track_build_parameter(self, kind: str, n: int, recall: float) -> float:
        """m (HNSW) or lists (IVFFlat) of the configuration that reached the recall (0: none did)."""
        return self.at["build"]

    @descriptive("parameter")
    def track_search_parameter(self, kind: str, n: int, recall: float) -> float:
        """ef_search (HNSW) or probes (IVFFlat) of the configuration that reached the recall (0: none did)."""
        return self.at["search"]


def point_label(kind: str, params: dict[str, int]) -> str:
    """A sweep point's name, fixed by the grid (never by the hardware): `m=16 ef_search=40`."""
    if kind == "hnsw":
        return f"m={params['build']} ef_search={params['search']}"
    return f"lists={params['build']} probes={params['search']}"


def point_labels(kind: str) -> list[str]:
    return [point_label(kind, params) for *_, params in sweep_specs(kind)]


def sweep_specs(kind: str) -> list[tuple[str, tuple[int, ...], IndexSpec, dict[str, int]]]:
    """(grid class, build key, spec, params) of every point: the grid's builds, finer search settings."""
    if kind == "hnsw":
        return [
            (grid.HnswSearch.__name__, (m,), IndexSpec("hnsw", m=m, ef_search=ef), {"build": m, "search": ef})
            for m in grid.HNSW_M
            for ef in HNSW_EF_SWEEP
        ]
    return [
        (
            grid.IvfflatSearch.__name__,
            (lists,),
            IndexSpec("ivfflat", lists=lists, probes=p),
            {"build": lists, "search": p},
        )
        for lists in grid.IVF_LISTS
        for p in IVF_PROBES_SWEEP
        if p <= lists
    ]


def sweep(kind: str, n: int) -> dict:
    """Every point's recall@10 (mean over the builds) and QPS (median over them), measured once per run."""

    def run() -> dict:
        specs = sweep_specs(kind)
        seen: list[list[dict[str, float]]] = [[] for _ in specs]
        for replica in range(FRONTIER_BUILDS[n]):
            for row_of_point, (grid_kind, build, spec, _) in zip(seen, specs, strict=True):
                table = grid.grid_table(grid_kind, (n, *build), (n, *build), spec, replica=replica)
                row = grid.measure(database_dsn(), table["schema"], n, spec)
                row_of_point.append({"recall": row["recall@10"], "qps": 1000.0 / row["p50"]})
        return {"points": [averaged(rows, params) for rows, (*_, params) in zip(seen, specs, strict=True)]}

    return once_per_run(f"vector_frontier.sweep:{kind}:{n}", run)


def averaged(rows: list[dict[str, float]], params: dict[str, int]) -> dict:
    """One sweep point over its builds: mean recall, median QPS, and each build's recall."""
    recalls = [row["recall"] for row in rows]
    return {
        "recall": statistics.fmean(recalls),
        "qps": statistics.median(row["qps"] for row in rows),
        "params": params,
        "build_recalls": recalls,
    }


def at_recall(kind: str, n: int, recall: float) -> dict:
    try:
        from veracity.bench.frontier import SweepPoint, qps_at_recall
    except ImportError:  # a commit before the frontier
        raise NotImplementedError("this commit has no recall frontier") from None
    points = [SweepPoint(p["recall"], p["qps"], p["params"]) for p in sweep(kind, n)["points"]]
    at = qps_at_recall(points, recall)
    if at.reached_by is None or math.isnan(at.qps):  # not reached anywhere in the sweep
        return {"qps": 0.0, "build": 0, "search": 0}
    return {"qps": at.qps, **at.reached_by.params}


class _FrontierPoints(Tracked):
    """Every sweep point's recall@10 and QPS, so the site can draw each commit's recall/QPS frontier
    (`html/frontier.html`). Descriptive: the judged figure is QPS at a recall (RecallFrontier); these
    come from the same sweep, measured once per run, so they cost no extra measurement."""

    kind = ""
    timeout = 900

    def setup(self, n: int, point: str) -> None:
        found = [p for p in sweep(self.kind, n)["points"] if point_label(self.kind, p["params"]) == point]
        if not found:
            raise ValueError(f"no sweep point {point!r} for {self.kind}")
        self.point = found[0]

    @descriptive("recall@10")
    def track_point_recall(self, n: int, point: str) -> float:
        return self.point["recall"]

    @descriptive("queries/s")
    def track_point_qps(self, n: int, point: str) -> float:
        return self.point["qps"]


class HnswFrontierPoints(_FrontierPoints):
    kind = "hnsw"
    params = [FRONTIER_SIZES, point_labels("hnsw")]
    param_names = ["vectors", "point"]


class IvfflatFrontierPoints(_FrontierPoints):
    kind = "ivfflat"
    params = [FRONTIER_SIZES, point_labels("ivfflat")]
    param_names = ["vectors", "point"]
