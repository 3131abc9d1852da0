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
