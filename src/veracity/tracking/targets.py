"""The product's performance targets and where the latest commit stands against each.

Targets live in a committed TOML file (default benchmarks/targets.toml); without one, the seed
targets below apply. Each names a benchmark by glob on `name(params)`, a comparison and a limit
in the benchmark's own unit:

    [[target]]
    title = "embedding throughput"
    benchmark = "embedding.*.track_texts_per_second*"
    op = ">"
    limit = 500
    unit = "texts/s"
"""

from __future__ import annotations

import enum
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from veracity.errors import TrackingFileError
from veracity.tracking.results import BenchmarkResult
from veracity.tracking.triage import matches_benchmark

# Met, but closer to the limit than this, is a warning.
WARN_MARGIN = 0.10


@dataclass(frozen=True)
class Target:
    title: str
    benchmark: str
    op: str  # ">" (value must exceed limit) or "<" (value must stay below)
    limit: float
    unit: str

    def matches(self, key: str) -> bool:
        return matches_benchmark(self.benchmark, key)

    def describe(self) -> str:
        return f"{self.op} {_fmt(self.limit)} {self.unit}"


# The design notes' targets, on the suite's own benchmarks (benchmarks/targets.toml holds the same).
SEED_TARGETS: tuple[Target, ...] = (
    Target(
        "embedding throughput (fp32, 1 thread, batch 32)",
        "embedding.EncodeThroughput.track_texts_per_second",
        ">",
        500,
        "texts/s",
    ),
    Target("NLI throughput (batch 16)", "nli.NliThroughput.track_pairs_per_second(16)", ">", 2, "pairs/s"),
    Target(
        "vector search, 10K vectors (HNSW m 16, ef_search 40)",
        "vector_search.HnswSearch.time_query(10000, 16, 40)",
        "<",
        3,
        "seconds",
    ),
    Target(
        "end-to-end, the whole shipped claim set", "pipeline.VerifyClaims.track_claim_set_seconds", "<", 60, "seconds"
    ),
    Target("peak memory of a whole pipeline run", "pipeline.PipelineMemory.peakmem_claim_set", "<", 4e9, "bytes"),
    Target(
        "recall@1, IVFFlat lists 50 / probes 10, 10K vectors",
        "vector_search.IvfflatSearch.track_recall_at_1(10000, 50, 10)",
        ">",
        0.95,
        "ratio",
    ),
    *(  # issue 20: cold start and quality in depth, at the seeds' limits and baselines
        Target(title, benchmark, op, limit, unit)
        for title, benchmark, op, limit, unit in (
            (
                "cold start: a fresh process's first verdict (imports, models, server, store, claim)",
                "cold_start.ColdStart.track_phase_seconds('first_verdict')",
                "<",
                60,
                "seconds",
            ),
            (
                "cold model load, each model and forward pass",
                "cold_start.ColdModelLoad.track_load_seconds*",
                "<",
                30,
                "seconds",
            ),
            ("NLI macro-F1, held-out template groups", "nli.NliQuality.track_held_out_macro_f1", ">", 0.70, "ratio"),
            (
                "NLI F1 of every label, held-out template groups",
                "nli.NliQuality.track_held_out_class_f1*",
                ">",
                0.6,
                "ratio",
            ),
            ("verdict macro-F1, the shipped claims", "quality.VerdictQuality.track_macro_f1", ">", 0.70, "ratio"),
            (
                "verdict F1 of every verdict, the shipped claims",
                "quality.VerdictQuality.track_class_f1*",
                ">",
                0.6,
                "ratio",
            ),
            (
                "NDCG@10 against exact search, HNSW 10K (m 16, ef_search 40)",
                "vector_search.HnswSearch.track_ndcg_at_10(10000, 16, 40)",
                ">",
                0.30,
                "ratio",
            ),
            (
                "hit rate@10 against exact search, HNSW 10K (m 16, ef_search 40)",
                "vector_search.HnswSearch.track_hit_rate_at_10(10000, 16, 40)",
                ">",
                0.40,
                "ratio",
            ),
            (
                "100 concurrent claims: p95 latency of a claim (serving path, Offline)",
                "load.ServingLoad.track_offline_latency_p95('standard')",
                "<",
                60,
                "seconds",
            ),
            (
                "100 concurrent claims: peak memory of the serving process",
                "load.ServingLoad.track_peak_rss_bytes('standard')",
                "<",
                4e9,
                "bytes",
            ),
        )
    ),
)


class Status(enum.StrEnum):
    MET = "met"
    CLOSE = "close"
    MISSED = "missed"
    NO_DATA = "no data"
    NO_BENCHMARK = "no such benchmark"  # the target names nothing in the suite: it could never fail

    @property
    def icon(self) -> str:
        return {"met": "✅", "close": "⚠️", "missed": "❌", "no data": "❔", "no such benchmark": "⛔"}[self.value]


@dataclass(frozen=True)
class TargetStatus:
    target: Target
    key: str | None
    value: float | None
    margin: float | None  # relative headroom: +0.25 is 25% better than the limit, negative is a miss
    status: Status

    def to_json(self) -> dict:
        """The record `veracity targets --json` prints and html/targets.json holds."""
        return {
            "title": self.target.title,
            "limit": self.target.describe(),
            "benchmark": self.key,
            "value": self.value,
            "margin": self.margin,
            "status": self.status.value,
        }


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def unresolved(targets: Sequence[Target], keys: Sequence[str]) -> list[Target]:
    """The targets whose benchmark glob matches none of `keys` (the suite's names and `name(params)`)."""
    return [t for t in targets if not any(t.matches(k) for k in keys)]


def evaluate_target(
    target: Target, results: Sequence[BenchmarkResult], keys: Sequence[str] | None = None
) -> TargetStatus:
    """Judge a target on the worst matching result (a target must hold for every parameter).

    `keys`: the suite's benchmark names, when known; a target that matches none of them is
    NO_BENCHMARK (a typo or a renamed benchmark), not merely without data.
    """
    if keys is not None and unresolved([target], keys):
        return TargetStatus(target, None, None, None, Status.NO_BENCHMARK)
    matching = [r for r in results if r.ok and target.matches(r.key)]
    if not matching:
        return TargetStatus(target, None, None, None, Status.NO_DATA)

    def margin(r: BenchmarkResult) -> float:
        assert r.value is not None
        if target.op == ">":
            return r.value / target.limit - 1
        return 1 - r.value / target.limit

    worst = min(matching, key=margin)
    m = margin(worst)
    status = Status.MISSED if m <= 0 else Status.CLOSE if m < WARN_MARGIN else Status.MET
    return TargetStatus(target, worst.key, worst.value, m, status)


def load_targets(path: Path | None) -> tuple[Target, ...]:
    """Targets from the file, or the seed targets when there is none."""
    if path is None or not Path(path).exists():
        return SEED_TARGETS
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        entries = data.get("target", [])
        if not isinstance(entries, list) or not entries:
            raise ValueError("expected one or more [[target]] tables")
        out = []
        for i, e in enumerate(entries, 1):
            if not isinstance(e, dict):
                raise ValueError(f"target {i} is not a table")
            title, bench, op, limit = e.get("title"), e.get("benchmark"), e.get("op"), e.get("limit")
            if not isinstance(title, str) or not isinstance(bench, str):
                raise ValueError(f"target {i} needs title and benchmark strings")
            if op not in (">", "<"):
                raise ValueError(f'target {i} ({title}): op must be ">" or "<"')
            if isinstance(limit, bool) or not isinstance(limit, int | float) or not math.isfinite(limit) or limit == 0:
                raise ValueError(f"target {i} ({title}): limit must be a non-zero number")
            out.append(Target(title, bench, op, float(limit), str(e.get("unit", ""))))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise TrackingFileError(f"{path}: {exc}; fix the targets file") from None
    return tuple(out)
