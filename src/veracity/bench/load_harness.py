"""A load generator for a claim-serving pipeline, after MLPerf Inference's LoadGen scenarios.

Offline: every claim issued at once (`in_flight` outstanding), throughput in claims/s. Server:
claims issued at seeded Poisson arrival times at a target rate, latency from each claim's
scheduled arrival to its verdict (so a service that falls behind pays for the queue, as LoadGen
counts it), and the highest rate whose p99 stays under a bound. Resident memory is sampled
throughout. A warm-up that is not measured comes first. Figures are for one process on one machine.
"""

from __future__ import annotations

import gc
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import psutil

PERCENTILES = (50, 95, 99)


class ClaimService(Protocol):
    """What the harness drives: submit a claim, get a future of its verdict."""

    def submit(self, claim: str) -> Future: ...


def arrival_offsets(rate: float, count: int, seed: int) -> np.ndarray:
    """Seconds from the start at which each of `count` claims arrives: a Poisson process at `rate`/s.

    Exponential inter-arrival times from numpy's seeded generator, so the same seed gives the same
    schedule on every machine (scaled by the rate).
    """
    if rate <= 0:
        raise ValueError(f"arrival rate must be positive, got {rate}")
    gaps = np.random.default_rng(seed).exponential(1.0 / rate, size=count)
    return np.cumsum(gaps) - gaps[0]  # the first claim arrives at 0


def claim_stream(claims: Sequence[str], count: int, seed: int) -> list[str]:
    """`count` claims drawn as seeded passes over `claims`, each pass in its own shuffled order."""
    rng = np.random.default_rng(seed)
    out: list[str] = []
    while len(out) < count:
        out.extend(claims[i] for i in rng.permutation(len(claims)))
    return out[:count]


def latency_percentiles(latencies_s: np.ndarray) -> dict[str, float]:
    return {f"p{q}": float(np.percentile(latencies_s, q)) for q in PERCENTILES}


@dataclass(frozen=True)
class OfflineResult:
    claims: int
    in_flight: int
    seconds: float
    latencies_s: np.ndarray = field(repr=False)

    @property
    def claims_per_s(self) -> float:
        return self.claims / self.seconds


@dataclass(frozen=True)
class ServerResult:
    rate: float
    claims: int
    seconds: float
    latencies_s: np.ndarray = field(repr=False)

    @property
    def percentiles(self) -> dict[str, float]:
        return latency_percentiles(self.latencies_s)


def run_offline(service: ClaimService, claims: Sequence[str], *, in_flight: int = 100) -> OfflineResult:
    """All `claims` through `service` with `in_flight` outstanding at any time; wall time of the lot."""
    slots = threading.Semaphore(in_flight)
    futures = []
    issued, done = np.zeros(len(claims)), np.zeros(len(claims))

    def finished(index: int) -> Callable[[Future], None]:
        def record(_: Future) -> None:
            done[index] = time.perf_counter()
            slots.release()

        return record

    started = time.perf_counter()
    for index, claim in enumerate(claims):
        slots.acquire()
        issued[index] = time.perf_counter()
        future = service.submit(claim)
        future.add_done_callback(finished(index))
        futures.append(future)
    wait(futures)
    for future in futures:
        future.result()  # raises the first failure
    return OfflineResult(len(claims), in_flight, time.perf_counter() - started, done - issued)


def run_server(service: ClaimService, claims: Sequence[str], *, rate: float, seed: int) -> ServerResult:
    """Issue `claims` at seeded Poisson arrivals of `rate`/s; each latency runs from its scheduled arrival."""
    offsets = arrival_offsets(rate, len(claims), seed)
    done = np.zeros(len(claims))
    futures: list[Future] = []
    start = time.perf_counter()

    def finished(index: int) -> Callable[[Future], None]:
        def record(_: Future) -> None:
            done[index] = time.perf_counter()

        return record

    for index, (claim, offset) in enumerate(zip(claims, offsets, strict=True)):
        delay = start + offset - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        future = service.submit(claim)
        future.add_done_callback(finished(index))
        futures.append(future)
    wait(futures)
    for future in futures:
        future.result()
    return ServerResult(rate, len(claims), time.perf_counter() - start, done - (start + offsets))


def rate_at_bound(rates: Sequence[float], p99s: Sequence[float], bound_s: float) -> float:
    """The highest arrival rate whose p99 stays under `bound_s`, from p99s measured at ascending `rates`.

    Between the last rate under the bound and the first over it, log(p99) is taken as linear in
    the rate (latency climbs steeply near saturation); NaN when even the lowest rate is over, the
    highest rate tried when none is.
    """
    for i, (rate, p99) in enumerate(zip(rates, p99s, strict=True)):
        if p99 > bound_s:
            if i == 0:
                return math.nan
            low_rate, low_p99 = rates[i - 1], p99s[i - 1]
            share = (math.log(bound_s) - math.log(low_p99)) / (math.log(p99) - math.log(low_p99))
            return low_rate + share * (rate - low_rate)
    return float(rates[-1])


class RssSampler:
    """The process's resident memory sampled on a thread every `interval_s`: its peak while running."""

    def __init__(self, interval_s: float = 0.02) -> None:
        self.interval_s = interval_s
        self.peak = 0
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-sampler", daemon=True)

    def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, self._process.memory_info().rss)
            if self._stop.wait(self.interval_s):
                return

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)


def settled_rss() -> int:
    """RSS after a full garbage collection: what the process keeps, not what is waiting to be freed."""
    gc.collect()
    return psutil.Process().memory_info().rss


@dataclass(frozen=True)
class LoadPlan:
    """How much load each scenario applies; `quick()` is the short version `--quick` runs.

    Rates are fractions of the base rate (the machine's Offline capacity). Server runs just past
    it (1.05): a commit that serves as fast as the base keeps a short backlog, one that lost
    capacity falls behind and its p99 grows with the queue. Well below capacity the scenario
    cannot see a lost capacity at all, and a change that trades throughput for latency (serving
    each claim alone instead of in batches) even looks better there (docs/load.md). The ladder's
    rungs are close together near capacity, where the p99 bound is crossed.
    """

    warmup_claims: int = 32
    offline_claims: int = 240
    in_flight: int = 100
    server_fraction: float = 1.05
    server_seconds: float = 20.0
    ladder: tuple[float, ...] = (0.8, 0.95, 1.05, 1.1, 1.15, 1.2, 1.3, 1.45, 1.6, 2.0)
    ladder_seconds: float = 6.0
    p99_bound_s: float = 2.0
    seed: int = 0

    @classmethod
    def quick(cls) -> LoadPlan:
        return cls(
            warmup_claims=16,
            offline_claims=120,
            server_seconds=8.0,
            ladder=(0.8, 1.05, 1.15, 1.3, 1.6, 2.0),
            ladder_seconds=4.0,
        )

    def claims_at(self, rate: float, seconds: float) -> int:
        return max(20, math.ceil(rate * seconds))


@dataclass(frozen=True)
class LoadReport:
    """Every figure of one load run of one service."""

    offline: OfflineResult
    server: ServerResult
    base_rate: float
    ladder_rates: tuple[float, ...]
    ladder_p99s: tuple[float, ...]
    max_rate_under_bound: float
    p99_bound_s: float
    peak_rss_bytes: int
    rss_growth_bytes: int
    seconds: float

    def figures(self) -> dict[str, float]:
        """Flat JSON-ready figures, the names the benchmarks read."""
        return {
            "offline_claims_per_s": self.offline.claims_per_s,
            "offline_p95_s": float(np.percentile(self.offline.latencies_s, 95)),
            "server_rate": self.server.rate,
            "base_rate": self.base_rate,
            **{f"server_{name}_s": value for name, value in self.server.percentiles.items()},
            "max_rate_under_bound": self.max_rate_under_bound,
            "p99_bound_s": self.p99_bound_s,
            "peak_rss_bytes": float(self.peak_rss_bytes),
            "rss_growth_bytes": float(self.rss_growth_bytes),
            "seconds": self.seconds,
            **{f"ladder_p99_at_{rate:.3f}": p99 for rate, p99 in zip(self.ladder_rates, self.ladder_p99s, strict=True)},
        }


def run_load(
    service: ClaimService,
    claims: Sequence[str],
    plan: LoadPlan,
    *,
    base_rate: Callable[[float], float] = lambda offline_rate: offline_rate,
    progress: Callable[[str], None] = lambda _: None,
) -> LoadReport:
    """Warm-up, Offline, Server at `server_fraction` of the base rate, then the rate ladder.

    `base_rate` maps this run's Offline rate to the rate the Server scenarios are scaled by: the
    Offline rate itself, or one fixed for the machine so that commits are loaded alike.
    """
    started = time.perf_counter()
    run_offline(service, claim_stream(claims, plan.warmup_claims, plan.seed + 1), in_flight=plan.in_flight)
    rss_start = settled_rss()
    with RssSampler() as rss:
        progress("offline")
        offline = run_offline(service, claim_stream(claims, plan.offline_claims, plan.seed), in_flight=plan.in_flight)
        base = base_rate(offline.claims_per_s)
        rate = plan.server_fraction * base
        progress(f"server at {rate:.2f} claims/s")
        count = plan.claims_at(rate, plan.server_seconds)
        server = run_server(service, claim_stream(claims, count, plan.seed + 2), rate=rate, seed=plan.seed + 3)
        rates, p99s = [], []
        for step, fraction in enumerate(plan.ladder):
            step_rate = fraction * base
            progress(f"rate ladder at {step_rate:.2f} claims/s")
            count = plan.claims_at(step_rate, plan.ladder_seconds)
            stream = claim_stream(claims, count, plan.seed + 10 + step)
            result = run_server(service, stream, rate=step_rate, seed=plan.seed + 20 + step)
            rates.append(step_rate)
            p99s.append(result.percentiles["p99"])
            if p99s[-1] > plan.p99_bound_s:
                break  # past saturation: higher rates only queue longer
    return LoadReport(
        offline=offline,
        server=server,
        base_rate=base,
        ladder_rates=tuple(rates),
        ladder_p99s=tuple(p99s),
        max_rate_under_bound=rate_at_bound(rates, p99s, plan.p99_bound_s),
        p99_bound_s=plan.p99_bound_s,
        peak_rss_bytes=rss.peak,
        rss_growth_bytes=settled_rss() - rss_start,
        seconds=time.perf_counter() - started,
    )
