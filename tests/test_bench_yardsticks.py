"""The suite's machine yardsticks: declared the same way on every commit the suite runs against."""

from __future__ import annotations

import pytest

import veracity.tracking.direction as direction
from benchmarks import yardsticks
from benchmarks.embedding import EncodeThroughput
from benchmarks.load import ServingLoad
from benchmarks.vector_search import MemoryYardstick
from veracity.tracking.direction import is_yardstick, parse_unit


def test_every_yardstick_is_marked_higher_is_better() -> None:
    for benchmark in (
        EncodeThroughput.track_matmul_gflops,
        MemoryYardstick.track_random_read_rate,
        ServingLoad.track_machine_speed,
    ):
        unit, higher = parse_unit(benchmark.unit)
        assert is_yardstick(unit) and higher


def test_the_shim_marks_the_same_unit_on_commits_without_yardsticks(monkeypatch: pytest.MonkeyPatch) -> None:
    """asv runs this suite against older commits, whose veracity has no `machine_yardstick`."""
    declared = yardsticks.machine_yardstick("GFLOP/s")(lambda: 1.0).unit
    monkeypatch.delattr(direction, "machine_yardstick")
    assert yardsticks.machine_yardstick("GFLOP/s")(lambda: 1.0).unit == declared


def test_the_random_read_rate_is_a_positive_rate() -> None:
    assert yardsticks.random_read_mrate() > 0
