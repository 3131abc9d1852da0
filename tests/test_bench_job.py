"""`veracity bench` (the main job) picks the right commits and refuses bad input before doing any work."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from veracity.bench.job import recent_commits
from veracity.errors import ConfigError, VeracityError
from veracity.tracking.asvrun import bench_environment
from veracity.tracking.machine import current


def _repo_with_commits(root: Path, count: int) -> list[str]:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    hashes = []
    for i in range(count):
        (root / "f.txt").write_text(str(i))
        subprocess.run(["git", "add", "f.txt"], cwd=root, check=True)
        subprocess.run(["git", "commit", "-qm", f"c{i}"], cwd=root, check=True, env={**env, "PATH": "/usr/bin:/bin"})
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True)
        hashes.append(head.stdout.strip())
    return hashes


def test_recent_commits_are_the_last_n_oldest_first(tmp_path: Path) -> None:
    hashes = _repo_with_commits(tmp_path, 4)
    assert recent_commits(2, tmp_path) == hashes[-2:]
    assert recent_commits(10, tmp_path) == hashes


def test_zero_commits_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        recent_commits(0, tmp_path)


def test_a_folder_without_git_history_is_reported(tmp_path: Path) -> None:
    with pytest.raises(VeracityError, match="cannot list commits"):
        recent_commits(3, tmp_path)


def test_benchmark_environment_pins_threads_models_and_dependencies(tmp_path: Path) -> None:
    (tmp_path / "asv.conf.json").write_text("{}")
    (tmp_path / "constraints.txt").write_text("")
    env = bench_environment(tmp_path / "asv.conf.json")
    assert env["OMP_NUM_THREADS"] == "1" and env["HF_HUB_OFFLINE"] == "1"
    assert env["PIP_CONSTRAINT"] == str(tmp_path / "constraints.txt")


def test_machine_name_carries_cpu_and_isa_but_not_hostname() -> None:
    fingerprint = current(probe_gpu=False)
    assert fingerprint.machine_name.endswith(f"-{fingerprint.cores}c-{fingerprint.isa}")
    assert fingerprint.cpu_model in fingerprint.cpu_description()


def test_missing_config_is_a_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "veracity.cli", "bench", "--config", str(tmp_path / "asv.conf.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "not found" in result.stderr
