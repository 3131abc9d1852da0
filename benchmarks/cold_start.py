"""Cold start: imports, model loads per backend, a fresh PostgreSQL, the first query and the first
claims, each timed in fresh interpreters (`benchmarks/cold_start_child.py`), nothing warm.

Every other benchmark of the suite runs in a process forked from asv's forkserver with the models
already loaded, so none of them sees a slower load; these do. The children run one after another,
REPEATS of them, once per asv run (`once_per_run`), and each figure is the median over them: one
fresh interpreter's phases vary by 10-30% on a shared machine, their median far less. The phases of
one cold process are read side by side from one parameterised benchmark (one graph on the site).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import Tracked
from benchmarks.models import BENCH_BACKENDS
from benchmarks.run_cache import once_per_run
from veracity.tracking.direction import lower_is_better

CHILD = Path(__file__).with_name("cold_start_child.py")
REPEATS = 3
CHILD_TIMEOUT_S = 240
# In the order a first `veracity verify` meets them; `first_verdict` is their sum a user waits for.
PHASES = [
    "startup",
    "import",
    "embedding_load",
    "nli_load",
    "onnx_session",
    "server_init",
    "server_start",
    "store_load",
    "first_query",
    "first_claim",
    "second_claim",
    "third_claim",
    "first_verdict",
]
MODELS = ["embedding", "nli"]


class ColdStart(Tracked):
    """Each phase of one cold process, from interpreter start to the third claim (median of REPEATS)."""

    params = PHASES
    param_names = ["phase"]
    timeout = 600  # the first benchmark of a run starts the children: REPEATS x 15-40 s

    def setup(self, phase: str) -> None:
        self.row = cold_runs()

    @lower_is_better("seconds")
    def track_phase_seconds(self, phase: str) -> float:
        return self.row["phases"][phase]


class ColdModelLoad(Tracked):
    """Loading each model with each forward pass, in a process as fresh as a new interpreter after its
    imports (forked from one right after them; median of REPEATS)."""

    params = [BENCH_BACKENDS, MODELS]
    param_names = ["backend", "model"]
    timeout = 600

    def setup(self, backend: str, model: str) -> None:
        self.row = cold_runs()

    @lower_is_better("seconds")
    def track_load_seconds(self, backend: str, model: str) -> float:
        return self.row["loads"][backend][f"{model}_load"]


def cold_runs() -> dict:
    """The medians of REPEATS cold processes, measured once per asv run."""
    return once_per_run("cold_start.runs", lambda: medians([cold_process(BENCH_BACKENDS) for _ in range(REPEATS)]))


def cold_process(backends: list[str]) -> dict:
    """Run one fresh interpreter through every phase (and `backends`' loads); its JSON report."""
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false")
    env["VERACITY_COLD_SPAWNED_AT"] = repr(time.time())
    done = subprocess.run(
        [sys.executable, "-P", str(CHILD), *backends],
        capture_output=True,
        text=True,
        env=env,
        timeout=CHILD_TIMEOUT_S,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the cold-start process failed (exit {done.returncode}): {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def medians(runs: list[dict]) -> dict:
    """Phase by phase and load by load, the median over `runs` (each a child's report)."""
    phases = {name: statistics.median(run["phases"][name] for run in runs) for name in runs[0]["phases"]}
    loads = {
        backend: {name: statistics.median(run["loads"][backend][name] for run in runs) for name in figures}
        for backend, figures in runs[0]["loads"].items()
    }
    return {"phases": phases, "loads": loads, "runs": runs}
