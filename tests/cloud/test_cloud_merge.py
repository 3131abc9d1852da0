"""Merging shards into the local results keeps every good result and says what it left out."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from asv_samples import BENCHMARKS, COMMIT, result_file_data

from veracity.cloud.merge import merge_shards, result_filename
from veracity.cloud.shard import MANIFEST, ShardOutput, asv_version
from veracity.errors import VeracityError
from veracity.tracking.results import ResultsStore

OTHER = "0123456789abcdef0123456789abcdef01234567"
MACHINE_RECORD = {"machine": "toybox", "cpu": "AMD EPYC (2 cores; avx2 fma); torch 2.13.0", "version": 1}


def _shard(root: Path, name: str, results: list[dict], *, asv: str | None = None, errors: list[str] = ()) -> Path:
    """A shard folder as a shard writes it: results dir layout plus shard.json."""
    files = {"benchmarks.json": json.dumps(BENCHMARKS), "toybox/machine.json": json.dumps(MACHINE_RECORD)}
    for data in results:
        files[result_filename("toybox", data["commit_hash"], data["env_name"])] = json.dumps(data)
    manifest = {"index": 0, "machine": "toybox", "asv_version": asv or asv_version(), "errors": list(errors)}
    return ShardOutput.write_json({"manifest": manifest, "files": files}, root / name)


def _incomplete(commit: str = COMMIT) -> dict:
    data = copy.deepcopy(result_file_data(commit))
    data["results"]["bench.Suite.track_items_per_second"][0] = [None]  # this benchmark failed in this shard
    return data


def _later(commit: str = COMMIT) -> dict:
    data = copy.deepcopy(result_file_data(commit))
    for row in data["results"].values():
        if len(row) > 3:
            row[3] += 60_000
    return data


def test_two_clean_shards_merge_into_one_machine_history(tmp_path: Path) -> None:
    results = tmp_path / "results"
    a = _shard(tmp_path, "shard-0", [result_file_data(COMMIT)])
    b = _shard(tmp_path, "shard-1", [result_file_data(OTHER)])
    report = merge_shards([a, b], results)
    assert report.ok and not report.notes
    assert sorted(report.written) == sorted([f"toybox/{COMMIT}", f"toybox/{OTHER}"])
    assert set(ResultsStore(results).commits("toybox")) == {COMMIT, OTHER}
    assert json.loads((results / "toybox" / "machine.json").read_text())["cpu"] == MACHINE_RECORD["cpu"]
    assert set(ResultsStore(results).benchmarks()) == {k for k in BENCHMARKS if k != "version"}


def test_the_same_commit_from_two_shards_keeps_the_complete_copy_and_says_so(tmp_path: Path) -> None:
    results = tmp_path / "results"
    a = _shard(tmp_path, "shard-0", [result_file_data(COMMIT)])
    b = _shard(tmp_path, "shard-1", [_incomplete(COMMIT)])
    report = merge_shards([b, a], results)
    assert report.ok
    (note,) = report.notes
    assert COMMIT[:8] in note and "came 2 times" in note
    assert "kept shard-0's copy (2 of 4 results) because it has more results" in note
    assert "dropped shard-1's copy (1 of 4 results)" in note
    kept = ResultsStore(results).results_for("toybox", COMMIT)
    assert {r.key: r.value for r in kept}["bench.Suite.track_items_per_second"] == 1000.0


def test_of_two_equally_complete_copies_the_newer_is_kept(tmp_path: Path) -> None:
    results = tmp_path / "results"
    a = _shard(tmp_path, "shard-0", [_later(COMMIT)])
    b = _shard(tmp_path, "shard-1", [result_file_data(COMMIT)])
    (note,) = merge_shards([b, a], results).notes
    assert "kept shard-0's copy" in note and "finished last" in note
    written = json.loads((results / result_filename("toybox", COMMIT, "existing-py")).read_text())
    assert written["results"]["bench.Params.time_param"][3] == _later(COMMIT)["results"]["bench.Params.time_param"][3]


def test_a_truncated_shard_file_is_skipped_with_its_name_and_the_rest_kept(tmp_path: Path) -> None:
    results = tmp_path / "results"
    a = _shard(tmp_path, "shard-0", [result_file_data(COMMIT)])
    b = _shard(tmp_path, "shard-1", [result_file_data(OTHER)])
    broken = b / result_filename("toybox", OTHER, "existing-py")
    broken.write_text(broken.read_text()[:200])
    report = merge_shards([a, b], results)
    assert not report.ok
    (problem,) = report.problems
    assert str(broken) in problem and "truncated or not JSON" in problem and "left out" in problem
    assert set(ResultsStore(results).commits("toybox")) == {COMMIT}


def test_a_result_file_of_another_asv_format_is_refused_and_the_rest_kept(tmp_path: Path) -> None:
    results = tmp_path / "results"
    old = result_file_data(OTHER) | {"version": 1}
    a = _shard(tmp_path, "shard-0", [result_file_data(COMMIT)])
    b = _shard(tmp_path, "shard-1", [old])
    (problem,) = merge_shards([a, b], results).problems
    assert "format version 1" in problem and "writes version 2" in problem and "refused" in problem
    assert set(ResultsStore(results).commits("toybox")) == {COMMIT}


def test_a_shard_that_ran_another_asv_version_is_refused_whole(tmp_path: Path) -> None:
    results = tmp_path / "results"
    a = _shard(tmp_path, "shard-0", [result_file_data(COMMIT)])
    b = _shard(tmp_path, "shard-1", [result_file_data(OTHER)], asv="0.5.1")
    (problem,) = merge_shards([a, b], results).problems
    assert problem.startswith("shard-1 ran asv 0.5.1") and f"asv {asv_version()}" in problem
    assert set(ResultsStore(results).commits("toybox")) == {COMMIT}


def test_a_shard_that_sent_nothing_back_is_reported(tmp_path: Path) -> None:
    results = tmp_path / "results"
    a = _shard(tmp_path, "shard-0", [result_file_data(COMMIT)])
    report = merge_shards([a, tmp_path / "shard-1"], results)
    assert report.problems == ("shard-1: sent nothing back (" + str(tmp_path / "shard-1") + " is missing)",)
    assert report.written == (f"toybox/{COMMIT}",)


def test_errors_a_shard_reported_are_passed_on(tmp_path: Path) -> None:
    a = _shard(tmp_path, "shard-0", [result_file_data(COMMIT)], errors=["asv failed for 01234567: boom"])
    assert merge_shards([a], tmp_path / "results").problems == ("shard-0: asv failed for 01234567: boom",)


def test_a_complete_result_already_here_is_not_replaced_by_a_poorer_copy(tmp_path: Path) -> None:
    results = tmp_path / "results"
    merge_shards([_shard(tmp_path, "first", [result_file_data(COMMIT)])], results)
    before = (results / result_filename("toybox", COMMIT, "existing-py")).read_text()
    report = merge_shards([_shard(tmp_path, "second", [_incomplete(COMMIT)])], results)
    assert "kept the copy already here (2 of 4 results) because it has more results" in report.notes[0]
    assert report.written == ()
    assert (results / result_filename("toybox", COMMIT, "existing-py")).read_text() == before


def test_benchmarks_declared_here_stay_beside_the_shards_ones(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    local = {"bench.Old.time_gone": {"name": "bench.Old.time_gone", "type": "time", "unit": "seconds"}, "version": 2}
    (results / "benchmarks.json").write_text(json.dumps(local))
    merge_shards([_shard(tmp_path, "shard-0", [result_file_data(COMMIT)])], results)
    assert "bench.Old.time_gone" in ResultsStore(results).benchmarks()
    assert "bench.Suite.track_items_per_second" in ResultsStore(results).benchmarks()


def test_merging_leaves_no_temporary_files(tmp_path: Path) -> None:
    results = tmp_path / "results"
    merge_shards([_shard(tmp_path, "shard-0", [result_file_data(COMMIT)])], results)
    assert not [p for p in results.rglob("*") if p.name.startswith(".")]


def test_a_shard_output_naming_a_path_outside_its_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VeracityError, match="unsafe path"):
        ShardOutput.write_json({"manifest": {}, "files": {"../escape.json": "{}"}}, tmp_path / "shard-0")
    assert not (tmp_path / "escape.json").exists()
    assert not (tmp_path / "shard-0" / MANIFEST).exists()
