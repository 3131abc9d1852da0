"""Which commits a cloud run measures, and how they are dealt into shards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from asv_samples import COMMIT, make_results_dir
from cloud_helpers import git_repo

from veracity.cloud.planning import Shard, machines_with_gpu, measured_commits, pending, resolve_range, split
from veracity.errors import InputError


def test_commits_are_dealt_round_robin_oldest_first_in_each_shard() -> None:
    assert split(["a", "b", "c", "d", "e"], 2) == [Shard(0, ("a", "c", "e")), Shard(1, ("b", "d"))]


def test_split_is_deterministic() -> None:
    commits = [f"{i:040x}" for i in range(11)]
    assert split(commits, 3) == split(list(commits), 3)


def test_no_shard_is_left_empty_when_there_are_fewer_commits_than_shards() -> None:
    assert split(["a", "b"], 5) == [Shard(0, ("a",)), Shard(1, ("b",))]


def test_zero_shards_is_refused() -> None:
    with pytest.raises(InputError, match="at least 1"):
        split(["a"], 0)


def test_a_range_excludes_its_left_end_like_git(tmp_path: Path) -> None:
    hashes = git_repo(tmp_path, 4)
    assert resolve_range(tmp_path, "c0..c3") == hashes[1:]
    assert resolve_range(tmp_path, "c2") == [hashes[2]]


@pytest.mark.parametrize(("spec", "why"), [("nope..c1", "does not know"), ("c1..c1", "no commits"), ("zzz", "zzz")])
def test_a_bad_range_is_a_one_line_input_error(tmp_path: Path, spec: str, why: str) -> None:
    git_repo(tmp_path, 2)
    with pytest.raises(InputError, match=why):
        resolve_range(tmp_path, spec)


def test_commits_with_a_result_file_count_as_measured_and_truncated_ones_do_not(tmp_path: Path) -> None:
    results = make_results_dir(tmp_path)
    (results / "toybox" / "deadbeef-existing-py.json").write_text('{"commit_hash": "deadbeef')
    assert measured_commits(results, ["toybox"]) == {COMMIT}
    assert measured_commits(results, ["other-machine"]) == set()
    assert pending(["x", COMMIT, "y"], {COMMIT}) == ["x", "y"]


def test_machines_are_found_by_the_gpu_type_of_their_record(tmp_path: Path) -> None:
    records = [("xeon-h100", "1x NVIDIA H100 80GB HBM3"), ("xeon-a100", "1x NVIDIA A100-SXM4-80GB"), ("cpu", "")]
    for name, gpu in records:
        (tmp_path / name).mkdir()
        record = {"machine": name, "version": 1, **({"gpu": gpu} if gpu else {})}
        (tmp_path / name / "machine.json").write_text(json.dumps(record))
    assert machines_with_gpu(tmp_path, "H100") == ["xeon-h100"]
    assert machines_with_gpu(tmp_path, "A100-80GB") == ["xeon-a100"]
    assert machines_with_gpu(tmp_path, "H100:2") == []
