"""Bad input never crashes a command: each is one line on stderr that says what to do, exit 2, nothing lost.

Every case runs the real `veracity` entry point on a small git project with hand-made asv results,
and checks that the results folder is byte for byte what it was before the command ran.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from asv_samples import BENCHMARKS, result_file_data
from reliability_helpers import assert_one_line_error, snapshot

from veracity.cli import main

MACHINE = "toybox"


def _git(root: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"}
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, env=env)
    return done.stdout.strip()


class Project:
    """A git repository with asv.conf.json and results of its two commits, as `asv run` leaves them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "asv.conf.json"
        self.results = root / "results"
        root.mkdir(parents=True)
        _git(root, "init", "-q", "-b", "main")
        self.commits = []
        for i in range(2):
            (root / "code.txt").write_text(str(i))
            _git(root, "add", "code.txt")
            _git(root, "commit", "-qm", f"commit {i}")
            self.commits.append(_git(root, "rev-parse", "HEAD"))
        self.config.write_text(
            json.dumps(
                {
                    "version": 1,
                    "project": "p",
                    "repo": ".",
                    "branches": ["main"],
                    "environment_type": "virtualenv",
                    "results_dir": "results",
                    "html_dir": "html",
                }
            )
        )
        machine = self.results / MACHINE
        machine.mkdir(parents=True)
        (machine / "machine.json").write_text(json.dumps({"machine": MACHINE, "version": 1}))
        (self.results / "benchmarks.json").write_text(json.dumps(BENCHMARKS))
        for i, commit in enumerate(self.commits):
            data = result_file_data(commit)
            data["date"] += i * 1000
            self.result_file(commit).write_text(json.dumps(data))

    def result_file(self, commit: str) -> Path:
        return self.results / MACHINE / f"{commit[:8]}-existing-py.json"


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "project")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The real entry point in this process (the same code path as the console script)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def expect_error(capsys: pytest.CaptureFixture[str], argv: list[str], *fragments: str, keep: Path | None = None) -> str:
    """Run `argv`; it must fail with one line holding `fragments`, and leave the `keep` folder untouched."""
    before = snapshot(keep) if keep else {}
    code, _, err = run(capsys, *argv)
    line = assert_one_line_error(code, err, *fragments)
    if keep:
        assert snapshot(keep) == before, "the command changed files it only had to read"
    return line


# --- asv result files ------------------------------------------------------------------------------


def _mutated(change: Callable[[dict], None]) -> bytes:
    data = result_file_data("0" * 40)
    change(data)
    return json.dumps(data).encode()


def _bad_result_files() -> dict[str, bytes]:
    good = json.dumps(result_file_data("0" * 40)).encode()
    cases = {f"truncated-{p}pct": good[: len(good) * p // 100] for p in (0, 1, 10, 50, 90, 99)}
    cases |= {
        "binary": bytes(range(256)),
        "latin-1": b'{"commit_hash": "caf\xe9"}',
        "json-array": b"[]",
        "json-null": b"null",
        "format-version-1": _mutated(lambda d: d.update(version=1)),
        "no-commit-hash": _mutated(lambda d: d.pop("commit_hash")),
        "commit-hash-number": _mutated(lambda d: d.update(commit_hash=12)),
        "results-a-list": _mutated(lambda d: d.update(results=[])),
        "row-not-a-list": _mutated(lambda d: d["results"].update({"bench.x": "fast"})),
        "value-a-string": _mutated(lambda d: d["results"]["bench.Suite.track_items_per_second"].__setitem__(0, ["x"])),
        "params-not-lists": _mutated(lambda d: d["results"]["bench.Params.time_param"].__setitem__(1, ["10", "20"])),
        "samples-not-lists": _mutated(lambda d: d["results"]["bench.Params.time_param"].__setitem__(11, [1, None])),
        "wrong-combination-count": _mutated(lambda d: d["results"]["bench.Params.time_param"].__setitem__(0, [1.0])),
        "date-a-string": _mutated(lambda d: d.update(date="yesterday")),
        "no-machine": _mutated(lambda d: d["params"].pop("machine")),
        "other-machine": _mutated(lambda d: d["params"].update(machine="elsewhere")),
        "columns-not-a-list": _mutated(lambda d: d.update(result_columns="result")),
    }
    return cases


BAD_RESULT_FILES = _bad_result_files()


@pytest.mark.parametrize("case", sorted(BAD_RESULT_FILES))
def test_corrupt_result_file_is_named_and_kept(project: Project, capsys, case: str) -> None:
    bad = project.result_file(project.commits[1])
    bad.write_bytes(BAD_RESULT_FILES[case])
    c1, c2 = project.commits
    for argv in (["regressions"], ["targets"], ["compare", c1, c2]):
        expect_error(capsys, [*argv, "--config", str(project.config)], bad.name, keep=project.results)


@pytest.mark.parametrize("name", ["benchmarks.json", "machine.json"])
@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_missing_or_truncated_suite_and_machine_files(project: Project, capsys, name: str, damage: str) -> None:
    path = project.results / name if name == "benchmarks.json" else project.results / MACHINE / name
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes()[:7])
    c1, c2 = project.commits
    argvs = [["regressions"], ["compare", c1, c2]]
    if name == "machine.json" and damage == "missing":
        # Without machine.json the folder is not a machine asv knows: "no results", not a crash.
        argvs = [["regressions"]]
    for argv in argvs:
        expect_error(capsys, [*argv, "--config", str(project.config)], keep=project.results)


# --- asv.conf.json ---------------------------------------------------------------------------------

BAD_CONFIGS: dict[str, bytes | None] = {
    "missing": None,
    "empty": b"",
    "not-json": b"results_dir = results",
    "truncated": b'{"version": 1, "results_dir": "res',
    "array": b"[]",
    "binary": bytes(range(256)),
    "results-dir-number": b'{"results_dir": 5}',
    "branches-a-string": b'{"branches": "main"}',
    "html-dir-empty": b'{"html_dir": ""}',
}
CONFIG_COMMANDS = [
    ["regressions"],
    ["targets"],
    ["compare", "HEAD~1", "HEAD"],
    ["continuous", "HEAD"],
    ["calibrate"],
    ["publish"],
    ["bench"],
]


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_malformed_asv_conf_is_one_line_for_every_command(project: Project, capsys, case: str) -> None:
    content = BAD_CONFIGS[case]
    if content is None:
        project.config.unlink()
    else:
        project.config.write_bytes(content)
    for argv in CONFIG_COMMANDS:
        expect_error(capsys, [*argv, "--config", str(project.config)], "asv.conf.json", keep=project.results)


def test_config_that_is_a_directory_is_reported(project: Project, capsys) -> None:
    folder = project.root / "conf.d"
    folder.mkdir()
    for argv in CONFIG_COMMANDS:
        expect_error(capsys, [*argv, "--config", str(folder)], "conf.d")


# --- names that do not exist -----------------------------------------------------------------------


def test_unknown_commits_are_reported(project: Project, capsys) -> None:
    c1, c2 = project.commits
    config = ["--config", str(project.config)]
    expect_error(capsys, ["compare", "no-such-commit", c2, *config], "no-such-commit", keep=project.results)
    expect_error(capsys, ["compare", c1, "deadbeef", *config], "deadbeef", keep=project.results)
    expect_error(capsys, ["continuous", "no-such-commit", *config], "unknown commit", keep=project.results)
    expect_error(capsys, ["continuous", "nope", "HEAD", *config], "unknown commit 'nope'", keep=project.results)
    expect_error(capsys, ["calibrate", "--commit", "nope", *config], "unknown commit", keep=project.results)


def test_unknown_branch_is_reported_not_silently_replaced(project: Project, capsys) -> None:
    config = ["--config", str(project.config)]
    expect_error(capsys, ["regressions", "--branch", "no-such-branch", *config], "unknown branch", keep=project.results)
    expect_error(capsys, ["continuous", "main", "no-such-branch", *config], "no-such-branch", keep=project.results)


def test_unknown_machine_is_reported(project: Project, capsys) -> None:
    config = ["--config", str(project.config)]
    expect_error(capsys, ["regressions", "--machine", "nowhere", *config], "known: toybox", keep=project.results)


@pytest.mark.parametrize("pattern", ["no_such_benchmark", "(unclosed"])
def test_unknown_benchmark_name_is_reported_before_any_run(project: Project, capsys, pattern: str) -> None:
    config = ["--config", str(project.config)]
    for argv in (
        ["calibrate", "--bench", pattern],
        ["continuous", "HEAD~1", "HEAD", "--bench", pattern],
        ["bench", "--bench", pattern, "--no-publish"],
    ):
        expect_error(capsys, [*argv, *config], "--bench", keep=project.results)


def test_benchmark_pattern_may_name_a_parameter_combination(tmp_path: Path) -> None:
    from veracity.tracking.asvrun import check_bench_patterns

    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps(BENCHMARKS))
    check_bench_patterns([r"time_param\(10\)"], path)  # asv accepts it, so must we


def test_pattern_for_a_benchmark_added_since_the_last_run_is_left_to_asv(tmp_path: Path) -> None:
    import os

    from veracity.errors import ConfigError
    from veracity.tracking.asvrun import check_bench_patterns

    listed = tmp_path / "benchmarks.json"
    listed.write_text(json.dumps(BENCHMARKS))
    suite = tmp_path / "benchmarks"
    suite.mkdir()
    (suite / "new.py").write_text("def time_brand_new():\n    pass\n")
    os.utime(listed, (1, 1))  # asv listed the suite before new.py was written
    check_bench_patterns(["time_brand_new"], listed, suite)
    os.utime(suite / "new.py", (0, 0))
    with pytest.raises(ConfigError, match="matches no benchmark"):
        check_bench_patterns(["time_brand_new"], listed, suite)


# --- empty commit ranges ---------------------------------------------------------------------------


def test_empty_commit_ranges_are_reported(project: Project, capsys, tmp_path: Path) -> None:
    config = ["--config", str(project.config)]
    expect_error(capsys, ["bench", "--commits", "0", *config], "at least 1", keep=project.results)
    expect_error(capsys, ["continuous", "main", "main", *config], "range is empty", keep=project.results)
    expect_error(capsys, ["continuous", "HEAD", "main", *config], "range is empty", keep=project.results)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=fresh, check=True)
    (fresh / "asv.conf.json").write_text("{}")
    expect_error(capsys, ["bench", "--config", str(fresh / "asv.conf.json")], "no commits")


# --- committed tracking files ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "command", "content"),
    [
        ("--triage-file", "regressions", b"[[accepted]]\nbenchmark = 3\n"),
        ("--triage-file", "regressions", b"\xff\xfe not toml"),
        ("--noise-file", "regressions", b'{"version": 1, "machines": []}'),
        ("--noise-file", "regressions", b"{trunc"),
        ("--targets-file", "targets", b'[[target]]\ntitle = "t"\nbenchmark = "b"\nop = "="\nlimit = 1\n'),
        ("--targets-file", "targets", b"[[target]\n"),
    ],
)
def test_malformed_tracking_files_are_reported(
    project: Project, capsys, tmp_path: Path, option: str, command: str, content: bytes
) -> None:
    path = tmp_path / "file"
    path.write_bytes(content)
    expect_error(capsys, [command, option, str(path), "--config", str(project.config)], str(path), keep=project.results)


# --- claims files and settings ---------------------------------------------------------------------

BAD_CLAIMS: dict[str, bytes | None] = {
    "missing": None,
    "empty": b"",
    "blank-lines": b"\n  \n\n",
    "binary": bytes(range(256)),
    "json-array": b'["a claim"]\n',
    "no-claim-key": b'{"text": "x"}\n',
    "claim-a-number": b'{"claim": 3}\n',
    "blank-claim": b'{"claim": "  "}\n',
    "truncated": b'{"claim": "The Rhine flows',
    "good-then-bad": b'{"claim": "ok"}\n{"claim": oops}\n',
}


@pytest.mark.parametrize("case", sorted(BAD_CLAIMS))
def test_bad_claims_file_writes_no_output(capsys, tmp_path: Path, case: str) -> None:
    claims = tmp_path / "claims.jsonl"
    if BAD_CLAIMS[case] is not None:
        claims.write_bytes(BAD_CLAIMS[case])
    out = tmp_path / "out.jsonl"
    expect_error(capsys, ["verify", "--file", str(claims), "--output", str(out)], "claims")
    assert sorted(p.name for p in tmp_path.iterdir()) == (["claims.jsonl"] if BAD_CLAIMS[case] is not None else [])


def test_claims_path_that_is_a_directory_is_reported(capsys, tmp_path: Path) -> None:
    expect_error(capsys, ["verify", "--file", str(tmp_path)], "cannot read claims file")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VERACITY_TOP_K", "0"),
        ("VERACITY_TOP_K", "lots"),
        ("VERACITY_EMBEDDING_BATCH_SIZE", "-3"),
        ("VERACITY_INDEX", "lsh"),
        ("VERACITY_STORE", "redis"),
        ("VERACITY_DEVICE", "tpu"),
    ],
)
def test_bad_environment_settings_are_reported(capsys, monkeypatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    expect_error(capsys, ["verify", "a claim"], variable if variable.endswith(("_K", "_SIZE")) else value)
