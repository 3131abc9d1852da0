"""The tracker's command line: exit codes 0 / 1 / 2 and one-line errors, on hand-made results."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from asv_samples import COMMIT, make_results_dir, result_file_data

from veracity.cli.main import build_parser, main, register
from veracity.tracking.noise import NoiseBand, NoiseFile
from veracity.tracking.results import ResultsStore


def _project(tmp_path: Path, env_type: str = "virtualenv") -> Path:
    config = tmp_path / "asv.conf.json"
    config.write_text(
        json.dumps({"version": 1, "project": "p", "results_dir": "results", "environment_type": env_type})
    )
    make_results_dir(tmp_path / "results")
    return config


def _second_commit(tmp_path: Path, throughput: float) -> str:
    later = "c" * 40
    data = result_file_data(later)
    data["date"] += 1000
    data["results"]["bench.Suite.track_items_per_second"][0] = [throughput]
    (tmp_path / "results" / "toybox" / f"{later[:8]}-existing-py.json").write_text(json.dumps(data))
    return later


def test_register_adds_every_command_to_a_parser() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    argvs = {
        "regressions": [],
        "compare": ["a", "b"],
        "continuous": ["main"],
        "calibrate": [],
        "targets": [],
    }
    for command, rest in argvs.items():
        assert callable(parser.parse_args([command, *rest]).handler)


def _calibrated(tmp_path: Path) -> str:
    """A noise file with this machine's bands: two commits are too short a history to judge by (issue 17)."""
    noise = NoiseFile(tmp_path / "noise.json")
    keys = {r.key for r in ResultsStore(tmp_path / "results").results_for("toybox", COMMIT)}
    noise.update("toybox", COMMIT, [NoiseBand(key, 0.05, 5, 0.01, 0.05) for key in keys])
    noise.save()
    return str(noise.path)


def test_regressions_exit_0_when_none(tmp_path: Path, capsys) -> None:
    config = _project(tmp_path)
    _second_commit(tmp_path, 1010.0)
    assert main(["regressions", "--config", str(config), "--noise-file", _calibrated(tmp_path)]) == 0
    assert "No open regressions." in capsys.readouterr().out


def test_regressions_exit_1_on_a_throughput_drop_and_writes_markdown(tmp_path: Path) -> None:
    config = _project(tmp_path)
    _second_commit(tmp_path, 700.0)
    out = tmp_path / "report.md"
    argv = ["regressions", "--config", str(config), "--markdown", "--output", str(out)]
    assert main([*argv, "--noise-file", _calibrated(tmp_path)]) == 1
    text = out.read_text()
    assert "track_items_per_second" in text and "ba819968..cccccccc" in text


def test_compare_by_hash_prefix(tmp_path: Path, capsys) -> None:
    config = _project(tmp_path)
    later = _second_commit(tmp_path, 1300.0)
    assert main(["compare", COMMIT[:8], later[:8], "--config", str(config), "--rerun", "0"]) == 0
    out = capsys.readouterr().out
    assert "✅ better" in out and "NO REGRESSION BEYOND NOISE." in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["regressions", "--config", "missing.json"], "not found"),
        (["compare", "a", "b", "--rerun", "-1"], "--rerun"),
        (["compare", "deadbeef", COMMIT[:8], "--rerun", "0"], "no results for 'deadbeef'"),
        (["regressions", "--min-change", "-1"], "--min-change"),
        (["regressions", "--machine", "nope"], "no results for machine 'nope'"),
    ],
)
def test_input_errors_exit_2_with_one_line(tmp_path: Path, monkeypatch, capsys, argv, message) -> None:
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_corrupt_results_exit_2_naming_the_file(tmp_path: Path, capsys) -> None:
    config = _project(tmp_path)
    (tmp_path / "results" / "toybox" / "bad00000-x.json").write_text('{"commit_hash": ')
    assert main(["regressions", "--config", str(config)]) == 2
    assert "bad00000-x.json" in capsys.readouterr().err


def test_continuous_refuses_an_existing_environment(tmp_path: Path, capsys) -> None:
    config = _project(tmp_path, env_type="existing")
    assert main(["continuous", "HEAD", "--config", str(config)]) == 2
    assert "existing environment" in capsys.readouterr().err


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["compare"])
    assert exc.value.code == 2


def test_a_run_limited_by_bench_patterns_judges_only_what_they_select(tmp_path: Path) -> None:
    """`continuous -b X` leaves the other benchmarks' results from earlier runs in the same files."""
    from veracity.tracking.asvconf import AsvConfig
    from veracity.tracking.workflow import compare_commits

    config = AsvConfig.load(_project(tmp_path))
    later = _second_commit(tmp_path, 700.0)
    everything = compare_commits(config, COMMIT, later, rerun=0, log=lambda _: None)
    assert "bench.Suite.track_items_per_second" in {r.key for r in everything.rows}
    selected = compare_commits(config, COMMIT, later, rerun=0, log=lambda _: None, bench=[r"Params\.time_param\(10\)"])
    assert [r.key for r in selected.rows] == ["bench.Params.time_param(10)"]
