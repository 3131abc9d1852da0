"""Does the load run's machine yardstick follow the serving path's capacity when the host slows down?

The question behind it: could the Server scenario's rate be the machine's base rate scaled by a
yardstick read in the same run (`benchmarks.yardsticks.concurrent_matmul_gflops`), so that a host
running slower for a while offers less load instead of pushing every commit past capacity? That is
sound only if the yardstick loses what the serving path loses; on the development VM it did not
(docs/load.md), so the base stays fixed (`benchmarks.load.KeptBaseRate`) and the yardstick is only
recorded (`track_machine_speed`). This script measures both in one
process, in blocks: in each block, in alternating order, once on a quiet machine and once beside a
"neighbour" (processes at normal priority that spin `--busy-ms` and sleep `--idle-ms` on every
vCPU, as a busy tenant on the host takes a share of each vCPU), the two-stream yardstick, the
one-stream matmul yardstick and the Offline throughput of the serving path (the load run's own
Offline scenario: the shipped claims, 100 in flight). It prints each figure's ratio, neighbour
over quiet, per block and the median over blocks: where the yardstick's ratio matches Offline's,
scaling the rate by it keeps the Server scenario at the same point of the capacity curve.

    PYTHONPATH=. .venv/bin/python scripts/load_yardstick_check.py --blocks 4 --busy-ms 10 --idle-ms 40

With `--readings N` and no neighbour, it takes N readings in a row instead, to see whether the
yardsticks follow the machine's own drift (the development VM runs ~10% slower for tens of minutes
at a time): their correlation with Offline, and the spread (CV) of Offline alone against that of
Offline divided by each yardstick. Scaling by a yardstick helps where the second is the smaller.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from benchmarks.database import database_dsn, dated_prefix  # after the thread pinning above
from benchmarks.load import CONNECTIONS
from benchmarks.models import embedder, nli_model
from benchmarks.pipeline import TOP_K, corpus_vectors
from benchmarks.timing import best_rate
from benchmarks.yardsticks import MATMUL_SIZE, concurrent_matmul_gflops


def spin(busy_s: float, idle_s: float) -> None:
    while True:
        until = time.perf_counter() + busy_s
        while time.perf_counter() < until:
            pass
        time.sleep(idle_s)


class Neighbour:
    """One spinning process per vCPU while inside the `with`."""

    def __init__(self, busy_ms: float, idle_ms: float) -> None:
        self.args = (busy_ms / 1000, idle_ms / 1000)
        self.processes: list[multiprocessing.Process] = []

    def __enter__(self) -> Neighbour:
        self.processes = [
            multiprocessing.Process(target=spin, args=self.args, daemon=True) for _ in range(os.cpu_count() or 1)
        ]
        for process in self.processes:
            process.start()
        time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.terminate()
            process.join()


def one_stream_gflops() -> float:
    import torch

    a, b = torch.randn(MATMUL_SIZE, MATMUL_SIZE), torch.randn(MATMUL_SIZE, MATMUL_SIZE)
    return best_rate(2 * MATMUL_SIZE**3 * 8, lambda: [a @ b for _ in range(8)], repeats=7) / 1e9


def measure(serving, claims: list[str]) -> dict[str, float]:
    from veracity.bench.load_harness import claim_stream, run_offline

    figures = {"two-stream GFLOP/s": concurrent_matmul_gflops(), "one-stream GFLOP/s": one_stream_gflops()}
    offline = run_offline(serving, claim_stream(claims, 240, seed=0), in_flight=100)
    return {**figures, "Offline claims/s": offline.claims_per_s}


def drift_readings(serving, claims: list[str], count: int) -> int:
    readings = []
    for index in range(count):
        readings.append(measure(serving, claims))
        print(f"reading {index + 1}: " + "; ".join(f"{k} {v:.1f}" for k, v in readings[-1].items()), flush=True)
    offline = np.array([r["Offline claims/s"] for r in readings])

    def cv(values: np.ndarray) -> float:
        return float(values.std(ddof=1) / values.mean())

    print(f"\n{count} readings in a row, no neighbour; Offline claims/s CV {cv(offline):.1%}")
    print("| yardstick | correlation with Offline | CV of Offline / yardstick |")
    print("|---|---:|---:|")
    for name in ("two-stream GFLOP/s", "one-stream GFLOP/s"):
        stick = np.array([r[name] for r in readings])
        print(f"| {name} | {np.corrcoef(stick, offline)[0, 1]:.2f} | {cv(offline / stick):.1%} |")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--busy-ms", type=float, default=10.0)
    parser.add_argument("--idle-ms", type=float, default=40.0)
    parser.add_argument("--readings", type=int, default=0, help="N readings on the machine as it is, no neighbour")
    args = parser.parse_args()

    from veracity.bench.load_harness import claim_stream, run_offline
    from veracity.data import load_claims
    from veracity.pipeline.pgvector_store import PgVectorStore
    from veracity.pipeline.serving import ServingPipeline
    from veracity.pipeline.serving_session import attached_pool
    from veracity.pipeline.session import corpus_units
    from veracity.pipeline.store import IndexSpec
    from veracity.tracking.machine import current

    print(f"machine: {current().cpu_description()}", flush=True)
    vectors = corpus_vectors()
    loaded = PgVectorStore(database_dsn(), vectors.shape[1], IndexSpec("hnsw"), schema_prefix=dated_prefix())
    loaded.load(np.arange(len(vectors)), vectors)
    claims = [c.claim for c in load_claims()]
    pool = attached_pool(database_dsn(), embedder().dim, IndexSpec("hnsw"), loaded.schema, CONNECTIONS)
    ratios: dict[str, list[float]] = {}
    try:
        with ServingPipeline(embedder(), nli_model(), pool, corpus_units(), top_k=TOP_K) as serving:
            run_offline(serving, claim_stream(claims, 32, seed=1), in_flight=100)  # warm-up
            if args.readings:
                return drift_readings(serving, claims, args.readings)
            for block in range(args.blocks):
                quiet_first = block % 2 == 0
                readings = {}
                for neighbour in (False, True) if quiet_first else (True, False):
                    if neighbour:
                        with Neighbour(args.busy_ms, args.idle_ms):
                            readings[neighbour] = measure(serving, claims)
                    else:
                        readings[neighbour] = measure(serving, claims)
                line = []
                for name, quiet in readings[False].items():
                    ratio = readings[True][name] / quiet
                    ratios.setdefault(name, []).append(ratio)
                    line.append(f"{name} {quiet:.1f} -> {readings[True][name]:.1f} ({ratio:.3f})")
                print(f"block {block + 1}: " + "; ".join(line), flush=True)
    finally:
        loaded.close()
    print(f"\nneighbour spinning {args.busy_ms:g} ms in every {args.busy_ms + args.idle_ms:g} ms on each vCPU:")
    print("| figure | neighbour / quiet, per block | median |")
    print("|---|---|---:|")
    for name, values in ratios.items():
        print(f"| {name} | {', '.join(f'{v:.3f}' for v in values)} | {statistics.median(values):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
