"""The Server scenarios' base rate: the first load run's Offline rate, kept per machine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.load import KeptBaseRate
from benchmarks.yardsticks import concurrent_matmul_gflops


def test_the_first_run_keeps_its_offline_rate(tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    assert KeptBaseRate(path)(26.5) == 26.5
    assert json.loads(path.read_text())["claims_per_s"] == 26.5


def test_a_later_run_is_offered_the_kept_rate_not_its_own_offline_rate(tmp_path: Path) -> None:
    """A commit that lost a tenth of its capacity meets the load the first commit met, so its p99
    shows the loss; offered its own Offline rate, it would be offered a tenth less and hide it."""
    path = tmp_path / "base.json"
    KeptBaseRate(path)(26.5)
    assert KeptBaseRate(path)(23.9) == 26.5
    assert json.loads(path.read_text())["claims_per_s"] == 26.5


@pytest.mark.parametrize("kept", ["{not json", '{"rate": 19.8}', '{"claims_per_s": 0}', '{"claims_per_s": "fast"}'])
def test_an_unreadable_kept_rate_is_taken_afresh(tmp_path: Path, kept: str) -> None:
    path = tmp_path / "base.json"
    path.write_text(kept)
    assert KeptBaseRate(path)(25.0) == 25.0
    assert json.loads(path.read_text())["claims_per_s"] == 25.0


def test_the_serving_yardstick_is_a_positive_rate() -> None:
    assert concurrent_matmul_gflops(repeats=1) > 0
