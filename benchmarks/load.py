"""The pipeline under load: MLPerf-style Offline and Server scenarios through the serving path.

100 claims in flight share the models and a pool of database connections; embedding and NLI work is
batched across requests (`veracity.pipeline.serving`). One load run per plan and commit, measured
once per run (`once_per_run`) and read by cheap `track_*` methods, so its cost is paid once.

The Server scenarios' arrival rates are fractions of a base rate fixed per machine: the Offline rate
of the first load run on this machine, kept in the cache (`KeptBaseRate`). Every commit measured
here is then loaded alike, so a commit that serves fewer claims per second meets the same arrivals
and its p99 shows it; on another machine the same fraction means the same load for that machine.
The machine's own speed during the run is recorded beside the figures (`track_machine_speed`), so
that a load figure that moved with it is marked as possibly the machine's (`tracking.drift`).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from benchmarks.common import Tracked, descriptive, settings
from benchmarks.database import database_dsn
from benchmarks.models import embedder, nli_model
from benchmarks.run_cache import once_per_run
from benchmarks.yardsticks import concurrent_matmul_gflops, machine_yardstick
from veracity.tracking.direction import higher_is_better, lower_is_better

PLANS = ["standard", "short"]
CONNECTIONS = 4


class ServingLoad(Tracked):
    """Offline throughput, Server latency just past the machine's base rate, the highest rate under
    the p99 bound, and resident memory under that load. `short` is the version `--quick` runs."""

    params = [PLANS]
    param_names = ["plan"]
    timeout = 900

    def setup(self, plan: str) -> None:
        self.row = load_row(plan)

    @higher_is_better("claims/s")
    def track_offline_claims_per_s(self, plan: str) -> float:
        """Claims verified per second with 100 in flight (MLPerf Offline)."""
        return self.row["offline_claims_per_s"]

    @lower_is_better("seconds")
    def track_offline_latency_p95(self, plan: str) -> float:
        """p95 of one claim's time from issue to verdict in the Offline scenario (100 in flight)."""
        return self.row["offline_p95_s"]

    @lower_is_better("seconds")
    def track_server_latency_p50(self, plan: str) -> float:
        return self.row["server_p50_s"]

    @lower_is_better("seconds")
    def track_server_latency_p95(self, plan: str) -> float:
        return self.row["server_p95_s"]

    @lower_is_better("seconds")
    def track_server_latency_p99(self, plan: str) -> float:
        """p99 from scheduled arrival to verdict, Poisson arrivals at 1.05 x the base rate (MLPerf Server)."""
        return self.row["server_p99_s"]

    @higher_is_better("claims/s")
    def track_max_rate_under_p99_bound(self, plan: str) -> float:
        """The highest Poisson arrival rate whose p99 stays under the bound (NaN: not even the lowest)."""
        return self.row["max_rate_under_bound"]

    @lower_is_better("bytes")
    def track_peak_rss_bytes(self, plan: str) -> float:
        """Peak resident memory of the serving process over the scenarios (models loaded)."""
        return self.row["peak_rss_bytes"]

    @lower_is_better("bytes")
    def track_rss_growth_bytes(self, plan: str) -> float:
        """Resident memory kept after the scenarios beyond what the warm-up left (a leak shows here)."""
        return self.row["rss_growth_bytes"]

    @descriptive("claims/s")
    def track_server_rate(self, plan: str) -> float:
        """The Server scenario's arrival rate: 1.05 x this machine's base rate (the same for every commit)."""
        return self.row["server_rate"]

    @machine_yardstick("GFLOP/s")
    def track_machine_speed(self, plan: str) -> float:
        """The machine's two-stream matmul rate read before and after the load run (geometric mean):
        what the host gave this run, not what the code did with it."""
        return self.row.get("machine_gflops", math.nan)

    @descriptive("seconds")
    def track_load_run_seconds(self, plan: str) -> float:
        """What the load run costs this commit (warm-up and every scenario)."""
        return self.row["seconds"]


def load_plan(plan: str):
    from veracity.bench.load_harness import LoadPlan

    return LoadPlan.quick() if plan == "short" else LoadPlan()


class KeptBaseRate:
    """The rate the Server scenarios are fractions of: the Offline rate of the first load run on this
    machine (per plan), kept in the cache; `rm <cache>/load/base-rate-*` to take a new one (after a
    machine or pipeline change). An unreadable kept file is taken afresh.

    Not each run's own Offline rate: a commit that lost capacity would then be offered less load and
    its p99 would hide the loss. Nor that rate scaled by a machine yardstick read in the run: on the
    development VM the two-stream matmul rate followed the Offline rate's drift (correlation 0.70)
    but moved about 1.6 times as far, so scaling by it spread the Server load more than the drift it
    was to take out (scripts/load_yardstick_check.py, docs/load.md).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def for_plan(cls, plan: str) -> KeptBaseRate:
        from veracity.cpuinfo import cpu_model

        folder = settings().cache_dir / "load"
        folder.mkdir(parents=True, exist_ok=True)
        slug = "".join(c if c.isalnum() else "-" for c in f"{cpu_model()}-{os.cpu_count()}cpu-{plan}").lower()
        return cls(folder / f"base-rate-{slug}.json")

    def __call__(self, offline_rate: float) -> float:
        from veracity.cpuinfo import cpu_model
        from veracity.fsutil import atomic_write_text

        kept = self._kept()
        if kept is not None:
            return kept
        atomic_write_text(self.path, json.dumps({"claims_per_s": offline_rate, "cpu": cpu_model()}))
        return offline_rate

    def _kept(self) -> float | None:
        try:
            rate = float(json.loads(self.path.read_text())["claims_per_s"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return rate if math.isfinite(rate) and rate > 0 else None


def run_load_plan(plan: str) -> dict[str, float]:
    """One load run of the serving path over the suite's kept HNSW table of the shipped corpus."""
    try:
        from veracity.bench.load_harness import run_load
        from veracity.pipeline.serving import ServingPipeline
        from veracity.pipeline.serving_session import attached_pool
    except ImportError:  # a commit before the serving path
        raise NotImplementedError("this commit has no serving path") from None
    from benchmarks.pipeline import TOP_K, kept_store
    from veracity.data import load_claims
    from veracity.pipeline.session import corpus_units
    from veracity.pipeline.store import IndexSpec

    schema = once_per_run("pipeline.kept_store", lambda: {"schema": kept_store()})["schema"]
    pool = attached_pool(database_dsn(), embedder().dim, IndexSpec("hnsw"), schema, CONNECTIONS)
    claims = [c.claim for c in load_claims()]
    speed_before = concurrent_matmul_gflops()
    with ServingPipeline(embedder(), nli_model(), pool, corpus_units(), top_k=TOP_K) as serving:
        report = run_load(serving, claims, load_plan(plan), base_rate=KeptBaseRate.for_plan(plan))
    speed = math.sqrt(speed_before * concurrent_matmul_gflops())
    return {**report.figures(), "machine_gflops": speed}


def load_row(plan: str) -> dict[str, float]:
    return once_per_run(f"load.report:{plan}", lambda: run_load_plan(plan))
