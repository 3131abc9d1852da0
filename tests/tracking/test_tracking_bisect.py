"""`veracity bisect`: the search (first parent, skips), and real asv probes on the toy suite.

The toy suite's `track_*` figures are planted exactly per commit (toy_suite.py), so the verdict of
every probe on them is known; the real-asv tests build a virtualenv per commit, as bisect does.
"""

from __future__ import annotations

import itertools
import json
import subprocess
from pathlib import Path

import pytest
from toy_suite import MACHINE, ToyRepo

from veracity.bisect.command import EXIT_SUSPECTS, exit_code
from veracity.bisect.search import ProbeResult, Step, bisect
from veracity.cli.main import main

THROUGHPUT = "bench.Suite.track_items_per_second"
COMMITS = [f"c{i}" for i in range(8)]


def _probe_for(first_bad: int, skip: frozenset[int] = frozenset(), calls: list | None = None):
    """A probe that knows the answer: commit i is worse than commit j iff j < first_bad <= i."""

    def probe(good: str, candidate: str) -> ProbeResult:
        g, c = COMMITS.index(good), COMMITS.index(candidate)
        if calls is not None:
            calls.append((g, c))
        if c in skip:
            return ProbeResult(good, candidate, Step.SKIP, "does not build")
        worse = g < first_bad <= c
        return ProbeResult(good, candidate, Step.WORSE if worse else Step.GOOD)

    return probe


@pytest.mark.parametrize("first_bad", range(1, 8))
def test_the_search_finds_every_position_in_log2_probes(first_bad: int) -> None:
    calls: list[tuple[int, int]] = []
    search = bisect(COMMITS, _probe_for(first_bad, calls=calls))
    assert search.first_bad == COMMITS[first_bad]
    assert search.last_good == COMMITS[first_bad - 1]
    assert len(calls) <= 1 + 3  # the range check, then ceil(log2(7)) probes
    assert all(g < c for g, c in calls)
    assert exit_code(search) == 0


def test_each_probe_is_against_the_current_good_end() -> None:
    calls: list[tuple[int, int]] = []
    bisect(COMMITS, _probe_for(6, calls=calls))
    # After a commit is found good it becomes the reference of the next probe.
    for (g1, c1), (g2, _) in itertools.pairwise(calls[1:]):
        assert g2 in (g1, c1)


def test_a_range_with_nothing_worse_ends_after_one_probe_with_exit_1() -> None:
    calls: list[tuple[int, int]] = []
    search = bisect(COMMITS, _probe_for(99, calls=calls))
    assert (search.first_bad, search.suspects, calls) == (None, (), [(0, 7)])
    assert exit_code(search) == 1


def test_a_skipped_commit_is_neither_good_nor_bad() -> None:
    calls: list[tuple[int, int]] = []
    search = bisect(COMMITS, _probe_for(6, skip=frozenset({3}), calls=calls))
    assert search.first_bad == "c6"  # found around the skipped c3, its neighbour probed instead
    assert (0, 3) in calls and (0, 4) in calls
    search = bisect(COMMITS, _probe_for(4, skip=frozenset({4})))
    # c4 cannot be judged and c5 is worse than c3: either could be first, as git bisect says.
    assert (search.first_bad, search.suspects) == (None, ("c4", "c5"))
    assert exit_code(search) == EXIT_SUSPECTS


def test_usage_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bisect", "HEAD~1", "HEAD"]) == 2  # no -b
    assert main(["bisect", "HEAD", "HEAD~1", "-b", "x"]) == 2  # reversed
    assert main(["bisect", "no-such-commit", "HEAD", "-b", "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("veracity: error:") for line in err), err
    assert "Traceback" not in "".join(err)


# -- real asv probes ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def history(asv_home: Path, tmp_path_factory: pytest.TempPathFactory) -> ToyRepo:
    """c0 .. c3 at full throughput, c4 .. c7 at 0.8 (the regression lands in c4); `broken` on a side
    branch-free line after c7 cannot import its package, then `tail` restores c7's plant."""
    repo = ToyRepo(tmp_path_factory.mktemp("bisect") / "toy", env_type="virtualenv")
    for i in range(4):
        repo.commit(f"c{i}")
    for i in range(4, 8):
        repo.commit(f"c{i}", throughput=0.8)
    return repo


def _bisect(repo: ToyRepo, tmp_path: Path, good: str, bad: str, *extra: str) -> tuple[int, dict]:
    out = tmp_path / "bisect.json"
    argv = ["bisect", good, bad, "--config", str(repo.config), "--machine", MACHINE, "-b", THROUGHPUT]
    code = main([*argv, "--json", "--output", str(out), "--rerun", "1", "--rounds", "2", *extra])
    return code, json.loads(out.read_text())


@pytest.mark.asv
@pytest.mark.slow
def test_bisect_names_the_commit_that_dropped_throughput_from_stored_and_paired_runs(
    history: ToyRepo, tmp_path: Path
) -> None:
    # A history measured earlier (make bench): both ends stored, so the range check runs nothing.
    history.asv("run", "c0^!", "--machine", MACHINE, "-b", "Suite", "--record-samples")
    history.asv("run", "c7^!", "--machine", MACHINE, "-b", "Suite", "--record-samples")
    code, report = _bisect(history, tmp_path, "c0", "c7")
    assert code == 0, report
    assert report["first_bad"]["commit"] == history.commits["c4"], report
    assert report["first_bad"]["subject"] == "c4"
    assert report["first_bad"]["ratio"] == pytest.approx(0.8, rel=1e-6)
    assert report["probes"][0]["detail"].endswith("(stored results)"), report["probes"][0]
    assert any("paired run" in p["detail"] for p in report["probes"][1:]), report["probes"]
    assert len(report["probes"]) <= 1 + 3
    assert report["measured"].startswith("items/s")


@pytest.mark.asv
@pytest.mark.slow
def test_bisect_says_when_no_commit_is_worse(history: ToyRepo, tmp_path: Path) -> None:
    code, report = _bisect(history, tmp_path, "c4", "c7")
    assert code == 1 and report["first_bad"] is None and len(report["probes"]) == 1, report


@pytest.mark.asv
@pytest.mark.slow
def test_a_commit_whose_benchmark_fails_is_skipped(asv_home: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    repo = ToyRepo(tmp_path_factory.mktemp("bisect-skip") / "toy", env_type="virtualenv")
    repo.commit("c0")
    repo.commit("c1")
    # c2 does not build (its pyproject.toml is not TOML); c3 repairs it and lands the drop.
    pyproject = (repo.root / "pyproject.toml").read_text()
    (repo.root / "pyproject.toml").write_text("this is [not toml\n")
    repo.git("commit", "-q", "-am", "c2 does not build")
    repo.git("tag", "c2")
    (repo.root / "pyproject.toml").write_text(pyproject)
    repo.commit("c3", throughput=0.8)
    repo.commit("c4", throughput=0.8)
    out = tmp_path_factory.mktemp("bisect-skip-out") / "bisect.json"
    argv = ["bisect", "c0", "c4", "--config", str(repo.config), "--machine", MACHINE, "-b", THROUGHPUT]
    code = main([*argv, "--json", "--output", str(out), "--rerun", "0", "--rounds", "2"])
    report = json.loads(out.read_text())
    c2 = subprocess.check_output(["git", "-C", str(repo.root), "rev-parse", "c2"], text=True).strip()
    skipped = [p for p in report["probes"] if p["step"] == "skip"]
    assert [p["candidate"] for p in skipped] == [c2], report["probes"]
    # c2 cannot be judged and c3 is worse than c1: c2 or c3 is the first bad commit.
    assert code == EXIT_SUSPECTS, report
    assert report["suspects"] == [c2, repo.commits["c3"]], report


# A work count (unit "instructions") that repeats exactly, and a line per measurement in a file
# beside the suite, so the test can see which commit asv measured how often.
COUNTS_SUITE = """
import os
import sys

try:
    import toy
except ImportError:  # existing environment: the checked-out working tree is the code under test
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import toy

MEASURED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".measured")


class Work:
    def track_stage_instructions(self):
        with open(MEASURED, "a") as log:
            log.write(toy.PLANT["tag"] + "\\n")
        return 1.0e8 * toy.PLANT.get("work", 1.0)

    track_stage_instructions.unit = "instructions"
"""


@pytest.mark.asv
@pytest.mark.slow
def test_a_work_count_bisect_measures_each_commit_once(
    asv_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo = ToyRepo(tmp_path_factory.mktemp("bisect-counts") / "toy", env_type="virtualenv")
    (repo.root / "benchmarks" / "counts.py").write_text(COUNTS_SUITE)
    for i in range(8):  # c5 does 3% more work, past the count's 1% floor; counts never move by chance
        repo.commit(f"c{i}", tag=f"c{i}", work=1.03 if i >= 5 else 1.0)
    out = tmp_path_factory.mktemp("bisect-counts-out") / "bisect.json"
    argv = ["bisect", "c0", "c7", "--config", str(repo.config), "--machine", MACHINE, "-b", "counts.Work"]
    code = main([*argv, "--json", "--output", str(out), "--rounds", "6"])
    report = json.loads(out.read_text())
    assert code == 0 and report["first_bad"]["commit"] == repo.commits["c5"], report
    assert report["measured"].startswith("work (instruction counts"), report["measured"]
    measured = (repo.root / ".measured").read_text().split()
    # Each commit measured once: no rounds of a figure that repeats, no second run of the good end.
    assert len(measured) == len(set(measured)) and {"c0", "c7", "c5"} <= set(measured), measured
    assert all("measured once" in p["detail"] for p in report["probes"][1:]), report["probes"]
