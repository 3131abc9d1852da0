"""The load harness: seeded arrivals and claim streams, the rate under a p99 bound, real load runs."""

from __future__ import annotations

import math
import time
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
import pytest

from veracity.bench.load_harness import (
    LoadPlan,
    arrival_offsets,
    claim_stream,
    rate_at_bound,
    run_load,
    run_offline,
    run_server,
)
from veracity.config import Settings
from veracity.data import load_claims


def test_seeded_arrivals_repeat_and_another_seed_differs() -> None:
    first = arrival_offsets(10.0, 500, seed=3)
    np.testing.assert_array_equal(first, arrival_offsets(10.0, 500, seed=3))
    assert not np.array_equal(first, arrival_offsets(10.0, 500, seed=4))
    assert first[0] == 0 and np.all(np.diff(first) > 0)


def test_arrivals_are_poisson_at_the_rate() -> None:
    gaps = np.diff(arrival_offsets(20.0, 20_000, seed=0))
    assert gaps.mean() == pytest.approx(1 / 20.0, rel=0.03)
    assert gaps.std() == pytest.approx(1 / 20.0, rel=0.05)  # exponential: std equals mean


def test_claim_streams_repeat_with_the_seed_and_cover_every_claim() -> None:
    claims = [f"claim {i}" for i in range(7)]
    stream = claim_stream(claims, 20, seed=1)
    assert stream == claim_stream(claims, 20, seed=1)
    assert sorted(stream[:7]) == sorted(claims)  # each pass is a permutation


def test_rate_under_the_bound_is_interpolated_log_linearly() -> None:
    # p99 0.5 s at 4/s, 2.0 s at 6/s; bound 1.0 s: log(1/0.5)/log(2/0.5) = 1/2 of the way -> 5/s.
    assert rate_at_bound([2, 4, 6], [0.2, 0.5, 2.0], 1.0) == pytest.approx(5.0)
    assert rate_at_bound([2, 4], [0.2, 0.5], 1.0) == 4  # never over: the highest rate tried
    assert math.isnan(rate_at_bound([2, 4], [1.5, 3.0], 1.0))  # over from the start


def test_server_latency_runs_from_the_scheduled_arrival() -> None:
    # A service that answers inside `submit` in 40 ms, fed 50 claims/s: the harness falls behind its
    # schedule, and a latency counted from the scheduled arrival (not from the late submit) shows the
    # queue, about 50 x (40 - 20) ms = 1 s by the end, where the service time alone is 40 ms.
    class Service:
        def submit(self, claim: str) -> Future:
            time.sleep(0.04)
            future: Future = Future()
            future.set_result(claim)
            return future

    result = run_server(Service(), ["c"] * 50, rate=50.0, seed=0)
    assert result.percentiles["p99"] > 0.6
    assert result.percentiles["p50"] < result.percentiles["p99"]


def test_offline_keeps_at_most_in_flight_claims_outstanding() -> None:
    outstanding, peak = [0], [0]

    with ThreadPoolExecutor(max_workers=16) as pool:

        def work() -> None:
            time.sleep(0.01)
            outstanding[0] -= 1

        class Service:
            def submit(self, claim: str):
                outstanding[0] += 1
                peak[0] = max(peak[0], outstanding[0])
                return pool.submit(work)

        result = run_offline(Service(), ["c"] * 60, in_flight=5)
    assert result.claims == 60 and peak[0] <= 5


@pytest.mark.models
@pytest.mark.db
@pytest.mark.slow
def test_a_short_load_run_of_the_serving_path_gives_every_figure(settings: Settings, database_dsn: str) -> None:
    from veracity.pipeline.serving_session import open_serving_pipeline

    plan = LoadPlan(
        warmup_claims=8,
        offline_claims=40,
        server_fraction=0.5,
        server_seconds=3.0,
        ladder=(0.5, 4.0),
        ladder_seconds=3.0,
    )
    claims = [c.claim for c in load_claims()]
    with open_serving_pipeline(settings.with_overrides(database_url=database_dsn)) as serving:
        report = run_load(serving, claims, plan)
    figures = report.figures()
    assert figures["offline_claims_per_s"] > 0
    assert figures["server_rate"] == pytest.approx(0.5 * figures["offline_claims_per_s"])
    assert 0 < figures["server_p50_s"] <= figures["server_p95_s"] <= figures["server_p99_s"]
    assert figures["peak_rss_bytes"] > 200e6  # two models loaded
    # 4x the Offline rate cannot be served: the ladder stops there, the bound falls between its rungs.
    assert len(report.ladder_rates) == 2 and report.ladder_p99s[1] > plan.p99_bound_s
    assert report.ladder_rates[0] <= figures["max_rate_under_bound"] < report.ladder_rates[1] or math.isnan(
        figures["max_rate_under_bound"]
    )
