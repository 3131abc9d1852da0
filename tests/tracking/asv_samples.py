"""Hand-made asv 0.6 result files, in the format asv 0.6.6 writes, for fast tests."""

from __future__ import annotations

import json
from pathlib import Path

COMMIT = "ba819968a704df85f37f7c9341ed7a528021325f"
COLUMNS = [
    "result", "params", "version", "started_at", "duration", "stats_ci_99_a", "stats_ci_99_b",
    "stats_q_25", "stats_q_75", "stats_number", "stats_repeat", "samples", "profile",
]  # fmt: skip


def result_file_data(commit: str = COMMIT) -> dict:
    """A result file as asv 0.6.6 wrote it for the toy suite (trimmed)."""
    return {
        "commit_hash": commit,
        "env_name": "existing-py",
        "date": 1795647810000,
        "params": {"machine": "toybox", "python": "3.11"},
        "python": "3.11",
        "requirements": {},
        "env_vars": {},
        "result_columns": COLUMNS,
        "results": {
            "bench.Params.time_param": [
                [0.00107, None],
                [["10", "20"]],
                "e543",
                1795647811646,
                0.04,
                [0.00106, None],
                [0.00113, None],
                [0.00107, None],
                [0.00108, None],
                [1, None],
                [7, None],
                [[0.00113, 0.00109, 0.00108], None],
            ],
            "bench.Suite.track_items_per_second": [[1000.0], [], "bbe4", 1795647811712, 0.009],
            "bench.Suite.time_skipped": [[float("nan")], [], "aaaa"],
        },
        "durations": {},
        "version": 2,
    }


BENCHMARKS = {
    "bench.Params.time_param": {"name": "bench.Params.time_param", "type": "time", "unit": "seconds",
                                "params": [["10", "20"]], "param_names": ["n"], "version": "e543"},
    "bench.Suite.track_items_per_second": {"name": "bench.Suite.track_items_per_second", "type": "track",
                                           "unit": "items/s (higher is better)", "params": [], "param_names": [],
                                           "version": "bbe4"},
    "version": 2,
}  # fmt: skip


def make_results_dir(root: Path, data: dict | None = None) -> Path:
    machine = root / "toybox"
    machine.mkdir(parents=True, exist_ok=True)
    (machine / "machine.json").write_text(json.dumps({"machine": "toybox", "version": 1}))
    (root / "benchmarks.json").write_text(json.dumps(BENCHMARKS))
    (machine / f"{COMMIT[:8]}-existing-py.json").write_text(json.dumps(data or result_file_data()))
    return root


def write_series(results: Path, machine: str, series: dict[str, list[float | None]], units: dict[str, str]) -> None:
    """asv result files for a history of one machine: per benchmark one value per commit, oldest first, up to
    the latest commit (a shorter series is a benchmark added later). Commit i is `f"{i + 1:02x}" * 20`."""
    (results / machine).mkdir(parents=True)
    (results / machine / "machine.json").write_text(json.dumps({"machine": machine, "version": 1}))
    benchmarks = {
        name: {"name": name, "type": "track", "unit": units[name], "params": [], "param_names": [], "version": "v"}
        for name in series
    }
    (results / "benchmarks.json").write_text(json.dumps({**benchmarks, "version": 2}))
    commits = max(len(values) for values in series.values())
    for i in range(commits):
        commit = f"{i + 1:02x}" * 20
        data = {
            "commit_hash": commit,
            "env_name": "existing-py",
            "date": 1_700_000_000_000 + i * 1000,
            "params": {"machine": machine},
            "python": "3.11",
            "requirements": {},
            "env_vars": {},
            "result_columns": ["result", "params", "version"],
            "results": {
                name: [[values[i - commits + len(values)]], [], "v"]
                for name, values in series.items()
                if i >= commits - len(values)
            },
            "durations": {},
            "version": 2,
        }
        (results / machine / f"{commit[:8]}-existing-py.json").write_text(json.dumps(data))
