"""Machine drift: yardsticks that measure the machine mark the speed changes it could explain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asv_samples import BENCHMARKS, COMMIT, make_results_dir, result_file_data

from veracity.cli.main import main
from veracity.tracking.detect import Verdict
from veracity.tracking.direction import machine_yardstick, parse_unit
from veracity.tracking.drift import MachineDrift, drift_behind, machine_drift, measures_speed
from veracity.tracking.noise import NoiseBand, NoiseFile
from veracity.tracking.results import BenchmarkInfo, BenchmarkResult

YARDSTICK = "bench.Machine.track_gflops"
YARDSTICK_UNIT = "GFLOP/s [machine yardstick] (higher is better)"
THROUGHPUT = "bench.Suite.track_items_per_second"
MEMORY = "bench.Suite.track_bytes"
LATER = "c" * 40


def test_the_decorator_marks_the_unit_and_keeps_the_direction() -> None:
    @machine_yardstick("GFLOP/s")
    def track() -> float:
        return 1.0

    assert track.unit == YARDSTICK_UNIT  # type: ignore[attr-defined]
    assert parse_unit(track.unit) == ("GFLOP/s [machine yardstick]", True)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("unit", "speed"),
    [("seconds", True), ("ms", True), ("texts/s", True), ("pairs/s", True), ("bytes", False), ("ratio", False),
     ("cosine", False), ("GFLOP/s [machine yardstick]", False)],
)  # fmt: skip
def test_only_times_and_rates_follow_the_machine(unit: str, speed: bool) -> None:
    assert measures_speed(unit) is speed


def _yard(value: float, commit: str) -> BenchmarkResult:
    return BenchmarkResult(YARDSTICK, (), value, None, commit, "box", "env", version="y")


INFO = {YARDSTICK: BenchmarkInfo(YARDSTICK, "track", "GFLOP/s [machine yardstick]", True)}


@pytest.mark.parametrize(("after", "slower"), [(78.6, True), (110.0, False), (90.0, None), (103.0, None)])
def test_drift_is_declared_past_10_percent_either_way(after: float, slower: bool | None) -> None:
    drifts = machine_drift([_yard(93.6, "a")], [_yard(after, "b")], benchmarks=INFO, noise=None, machine="box")
    assert [d.slower for d in drifts] == ([] if slower is None else [slower])
    if drifts:
        assert drifts[0].unit == "GFLOP/s" and drifts[0].ratio == pytest.approx(after / 93.6)


def test_a_drift_explains_only_speed_changes_in_its_own_direction() -> None:
    slower = [MachineDrift(YARDSTICK, "GFLOP/s", 93.6, 78.6, slower=True)]
    assert drift_behind("seconds", Verdict.WORSE, slower) is slower[0]
    assert drift_behind("texts/s", Verdict.WORSE, slower) is slower[0]
    assert drift_behind("texts/s", Verdict.BETTER, slower) is None  # a slower machine does not make code faster
    assert drift_behind("bytes", Verdict.WORSE, slower) is None
    assert drift_behind("seconds", Verdict.FAILED, slower) is None
    faster = [MachineDrift(YARDSTICK, "GFLOP/s", 78.6, 93.6, slower=False)]
    assert drift_behind("seconds", Verdict.BETTER, faster) is faster[0]
    assert drift_behind("seconds", Verdict.WORSE, []) is None


def _history(tmp_path: Path, *, gflops_after: float, throughput_after: float, bytes_after: float) -> Path:
    """Two commits of hand-made results with a yardstick, a throughput and a memory benchmark."""
    config = tmp_path / "asv.conf.json"
    config.write_text(
        json.dumps({"version": 1, "project": "p", "results_dir": "results", "environment_type": "virtualenv"})
    )
    results = make_results_dir(tmp_path / "results")
    benchmarks = dict(BENCHMARKS)
    benchmarks[YARDSTICK] = {"name": YARDSTICK, "type": "track", "unit": YARDSTICK_UNIT, "params": [],
                             "param_names": [], "version": "y"}  # fmt: skip
    benchmarks[MEMORY] = {"name": MEMORY, "type": "track", "unit": "bytes", "params": [], "param_names": [],
                          "version": "m"}  # fmt: skip
    (results / "benchmarks.json").write_text(json.dumps(benchmarks))
    for commit, gflops, throughput, nbytes, offset in (
        (COMMIT, 93.6, 1000.0, 1e6, 0),
        (LATER, gflops_after, throughput_after, bytes_after, 1000),
    ):
        data = result_file_data(commit)
        data["date"] += offset
        data["results"][THROUGHPUT][0] = [throughput]
        data["results"][YARDSTICK] = [[gflops], [], "y", 1795647811712, 0.5]
        data["results"][MEMORY] = [[nbytes], [], "m", 1795647811712, 0.5]
        (results / "toybox" / f"{commit[:8]}-existing-py.json").write_text(json.dumps(data))
    # Bands of this machine: two commits are too short a history to judge by (issue 17).
    noise = NoiseFile(tmp_path / "suite" / "noise.json")
    noise.update("toybox", COMMIT, [NoiseBand(key, 0.05, 5, 0.01, 0.05) for key in (THROUGHPUT, MEMORY)])
    noise.save()
    config.write_text(json.dumps({**json.loads(config.read_text()), "benchmark_dir": "suite"}))
    return config


def test_regressions_on_a_slower_machine_are_marked_but_still_fail(tmp_path: Path, capsys) -> None:
    config = _history(tmp_path, gflops_after=78.6, throughput_after=800.0, bytes_after=2e6)
    assert main(["regressions", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    listed = out.split("broken on every commit measured")[0].splitlines()[2:-1]  # the broken follow apart
    rows = {line.split()[0]: line for line in listed if not line.strip().startswith("noise figures:")}
    assert set(rows) == {THROUGHPUT, MEMORY}  # the yardstick itself is never a regression
    assert "machine drift?" in rows[THROUGHPUT] and "machine drift?" not in rows[MEMORY]
    note = out.splitlines()[1]
    assert "1 change(s)" in note and "93.6 GFLOP/s -> 78.6 GFLOP/s" in note
    assert f"veracity continuous {COMMIT[:8]} {LATER[:8]}" in note

    assert main(["regressions", "--config", str(config), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["machine_drift"] == 1 and report["failing"] == 2
    by_key = {r["key"]: r for r in report["regressions"]}
    assert by_key[THROUGHPUT]["machine_drift"]["machine"] == "slower"
    assert by_key[MEMORY]["machine_drift"] is None


def test_a_steady_machine_adds_no_note(tmp_path: Path, capsys) -> None:
    config = _history(tmp_path, gflops_after=92.0, throughput_after=800.0, bytes_after=1e6)
    assert main(["regressions", "--config", str(config), "--markdown"]) == 1
    out = capsys.readouterr().out
    assert "machine drift" not in out and "track_gflops" not in out


def test_compare_keeps_the_yardstick_out_of_the_rows_and_notes_the_drift(tmp_path: Path, capsys) -> None:
    config = _history(tmp_path, gflops_after=110.0, throughput_after=1300.0, bytes_after=1e6)
    assert main(["compare", COMMIT[:8], LATER[:8], "--config", str(config), "--markdown"]) == 0
    out = capsys.readouterr().out
    assert "track_gflops" in out.split("|")[0]  # named in the note above the table
    assert "✅ better (machine drift?)" in out and "**0 worse**, 1 better" in out
    assert main(["compare", COMMIT[:8], LATER[:8], "--config", str(config), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [d["machine"] for d in report["machine_drift"]] == ["faster"]
    assert YARDSTICK not in {r["key"] for r in report["rows"]}
