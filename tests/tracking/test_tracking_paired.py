"""Paired noise bands: calibrated from a commit and its twin measured in one asv run."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

from veracity.tracking.detect import Verdict, compare_results
from veracity.tracking.gitrepo import make_twin_commit
from veracity.tracking.noise import NoiseBand, NoiseFile, estimate_band, estimate_paired_band
from veracity.tracking.results import BenchmarkInfo, BenchmarkResult


def _result(commit: str, samples: list[float]) -> BenchmarkResult:
    ordered = sorted(samples)
    return BenchmarkResult(
        machine="m",
        commit=commit,
        env_name="env",
        benchmark="bench.Suite.time_work",
        params=(),
        value=ordered[len(ordered) // 2],
        samples=tuple(samples),
        version="v1",
    )


def test_paired_band_is_the_wider_of_the_widest_twin_ratio_and_z_rms() -> None:
    cross = estimate_band("k", [1.0, 1.08, 0.95, 1.03])
    band = estimate_paired_band(cross, [1.01, 0.99, 1.015, 0.995])
    rms = math.sqrt(sum(math.log(r) ** 2 for r in [1.01, 0.99, 1.015, 0.995]) / 4)
    assert band.pairs == 4
    assert band.paired == round(max(0.01, math.expm1(math.log(1.015)), math.expm1(3 * rms)), 6)
    assert band.paired < cross.band  # run-to-run drift is not in it


def test_paired_band_survives_a_save_and_load_and_old_files_still_load(tmp_path: Path) -> None:
    path = tmp_path / "noise.json"
    noise = NoiseFile(path)
    noise.update(
        "m", "abc", [NoiseBand("k", 0.2, 5, 0.05, 0.15, paired=0.04, pairs=5), NoiseBand("j", 0.1, 5, 0.02, 0.1)]
    )
    noise.save()
    loaded = NoiseFile.load(path)
    assert loaded.band("m", "k").paired == 0.04 and loaded.band("m", "k").pairs == 5
    assert loaded.band("m", "j").paired is None
    stored = json.loads(path.read_text())["machines"]["m"]["bands"]
    assert "paired" not in stored["j"] and stored["k"]["paired"] == 0.04


def test_band_for_picks_the_paired_band_only_when_asked_and_calibrated() -> None:
    noise = NoiseFile(Path("unused"))
    noise.update(
        "m", "abc", [NoiseBand("k", 0.2, 5, 0.05, 0.15, paired=0.04, pairs=5), NoiseBand("j", 0.1, 5, 0.02, 0.1)]
    )
    assert noise.band_for("m", "k") == 0.2 and noise.band_for("m", "k", paired=True) == 0.04
    assert noise.band_for("m", "j") == 0.1 and noise.band_for("m", "j", paired=True) == 0.1  # no paired band yet
    assert noise.band_for("m", "x", paired=True) is None and noise.band_for("other", "k") is None


def test_paired_comparison_uses_the_paired_band() -> None:
    noise = NoiseFile(Path("unused"))
    noise.update("m", "abc", [NoiseBand("bench.Suite.time_work", 0.20, 5, 0.06, 0.2, paired=0.01, pairs=5)])
    before = [_result("a", [1.00, 1.01, 0.99, 1.00, 1.02, 0.98, 1.00, 1.01])]
    after = [_result("b", [1.08, 1.09, 1.07, 1.08, 1.10, 1.06, 1.08, 1.09])]
    info = {"bench.Suite.time_work": BenchmarkInfo.guess("bench.Suite.time_work")}
    across = compare_results(before, after, benchmarks=info, noise=noise, machine="m")
    paired = compare_results(before, after, benchmarks=info, noise=noise, machine="m", paired=True)
    assert across[0].verdict is Verdict.UNCHANGED  # +8% is inside the 20% band between runs
    assert paired[0].verdict is Verdict.WORSE and paired[0].threshold == 0.03  # a 1% band, floored at 3%


def test_twin_commit_has_the_same_tree_and_no_branch(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    run = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True, text=True).stdout  # noqa: E731
    repo.mkdir()
    run("init", "-q")
    (repo / "f.txt").write_text("x")
    run("add", "f.txt")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    head = run("rev-parse", "HEAD").strip()
    twin = make_twin_commit(repo, head)
    assert twin != head and twin == make_twin_commit(repo, head)  # same object every time
    assert run("rev-parse", f"{twin}^{{tree}}") == run("rev-parse", f"{head}^{{tree}}")
    assert run("branch", "--contains", twin).strip() == "" and run("rev-parse", "HEAD").strip() == head


class _Store:
    """results_for only, as _Pools reads it: one result per commit, replaced on each 'run'."""

    def __init__(self, results: dict[str, list[BenchmarkResult]]) -> None:
        self.results = results

    def results_for(self, machine: str, commit: str) -> list[BenchmarkResult]:
        return self.results[commit]


def test_pools_count_the_reruns_of_each_key_on_the_side_with_fewer() -> None:
    from veracity.tracking.workflow import _Pools

    store = _Store({"b": [_result("b", [1.0] * 5)], "a": [_result("a", [1.1] * 5)]})
    pools = _Pools(store, "box", ["b", "a"])
    key = store.results["b"][0].key
    assert pools.runs("b", "a") == {}  # nothing re-run: every key counts one run
    pools.refresh(store, "b", {key})
    assert pools.runs("b", "a") == {key: 1}  # only one side re-ran
    pools.refresh(store, "a", {key})
    assert pools.runs("b", "a") == {key: 1}
    pools.refresh(store, "b", {key})
    pools.refresh(store, "a", {key})
    assert pools.runs("b", "a") == {key: 2}


def test_a_grey_result_is_settled_by_its_reruns_without_the_run_that_made_it_grey() -> None:
    from veracity.tracking.workflow import _Pools

    first = [1.043, 1.04, 1.045, 1.05, 1.042]
    store = _Store({"b": [_result("b", [1.0] * 5)], "a": [_result("a", first)]})
    pools = _Pools(store, "box", ["b", "a"])
    key = store.results["a"][0].key
    # asv appends each re-run's samples to the file's (--append-samples)
    store.results["a"] = [_result("a", first + [1.01] * 5)]
    pools.refresh(store, "a", {key})
    assert pools.pools["a"][0].samples == (1.01,) * 5 and pools.pools["a"][0].value == 1.01
    store.results["a"] = [_result("a", first + [1.01] * 5 + [1.0] * 5)]
    pools.refresh(store, "a", {key})
    assert pools.pools["a"][0].samples == (1.01,) * 5 + (1.0,) * 5


class _History:
    """The ResultsStore reads of open_regressions: commits a, b, c with dates, one result each."""

    def __init__(self, results: dict[str, list[BenchmarkResult]]) -> None:
        self.results = results
        self.infos = {"bench.Suite.time_work": BenchmarkInfo.guess("bench.Suite.time_work")}

    def commits(self, machine: str) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.results)}

    def results_for(self, machine: str, commit: str) -> list[BenchmarkResult]:
        return self.results[commit]

    def benchmarks(self) -> dict[str, BenchmarkInfo]:
        return self.infos

    def info(self, name: str) -> BenchmarkInfo:
        return self.infos[name]


def test_open_regressions_judge_across_runs_so_a_paired_band_does_not_apply() -> None:
    from veracity.tracking.history import open_regressions

    flat = [1.00, 1.01, 0.99, 1.00, 1.02, 0.98, 1.00, 1.01]
    store = _History(
        {
            "a": [_result("a", flat)],
            "b": [_result("b", flat)],
            "c": [_result("c", [x * 1.08 for x in flat])],
        }
    )
    noise = NoiseFile(Path("unused"))
    noise.update("m", "abc", [NoiseBand("bench.Suite.time_work", 0.05, 5, 0.02, 0.05, paired=0.01, pairs=5)])
    (reg,) = open_regressions(store, "m", noise=noise)  # +8% is past the 5% band between runs
    assert (reg.verdict, reg.threshold, reg.machine) == (Verdict.WORSE, 0.05, "m")
    assert (reg.good_commit, reg.first_bad_commit, reg.latest_commit) == ("b", "c", "c")
    assert reg.key == "bench.Suite.time_work" and reg.env_name == "env" and reg.fails_ci
    wide = NoiseFile(Path("unused"))
    wide.update("m", "abc", [NoiseBand("bench.Suite.time_work", 0.20, 5, 0.06, 0.2, paired=0.01, pairs=5)])
    assert open_regressions(store, "m", noise=wide) == []  # inside the 20% band; the 1% paired band is not used
