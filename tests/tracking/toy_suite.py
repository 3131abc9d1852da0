"""A toy git repository with an asv suite whose speed, throughput and recall are planted per commit.

Plants are exact: each commit's toy/__init__.py holds the factors the benchmarks apply, so a test
knows what changed. Only the `track_*` figures are exact, though: the `time_*` benchmarks sleep
(rather than spin, to leave the CPUs to others) and read the clock of a machine that may be busy,
so a test asserts exact verdicts on `track_*` figures only. `existing` environments (the
interpreter running the tests) make each `asv run` take about a second; only the `asv continuous`
test builds a virtualenv.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
MACHINE = "toybox"

BENCHMARKS = '''
"""Toy suite: every value is planted by toy.PLANT, with optional run-to-run jitter."""
import os
import sys
import time

try:
    import toy
except ImportError:  # existing environment: the checked-out working tree is the code under test
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import toy

try:
    from veracity.tracking.direction import higher_is_better, lower_is_better, machine_yardstick
except ImportError:  # a fresh virtualenv has no veracity; same convention by hand
    def machine_yardstick(unit):
        def mark(f):
            f.unit = unit + " [machine yardstick] (higher is better)"
            return f
        return mark

    def higher_is_better(unit):
        def mark(f):
            f.unit = unit + " (higher is better)"
            return f
        return mark

    def lower_is_better(unit):
        def mark(f):
            f.unit = unit
            return f
        return mark

PLANT = toy.PLANT


def _jitter():
    """Deterministic run-to-run drift of the `jitter` plant: each import of this module takes the next factor.

    It moves `time_*` figures and `track_items_per_second` (for a noise band that a test can know).
    """
    amp = PLANT.get("jitter", 0.0)
    if not amp:
        return 1.0
    counter = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".jitter-counter")
    try:
        with open(counter) as f:
            n = int(f.read() or 0)
    except OSError:
        n = 0
    with open(counter, "w") as f:
        f.write(str(n + 1))
    return (1.0, 1.0 + amp, 1.0 - amp)[n % 3]


JITTER = _jitter()


class Suite:
    rounds = 1
    repeat = 7
    number = 1
    warmup_time = 0

    def time_work(self):
        time.sleep(0.01 * PLANT.get("time", 1.0) * JITTER)

    @higher_is_better("items/s")
    def track_items_per_second(self):
        return 1000.0 * PLANT.get("throughput", 1.0) * JITTER

    @higher_is_better("items/s")
    def track_grey_items_per_second(self):
        return 500.0 * PLANT.get("grey", 1.0)

    @higher_is_better("ratio")
    def track_recall(self):
        return 0.97 * PLANT.get("recall", 1.0)

    @lower_is_better("bytes")
    def track_peak_bytes(self):
        return 2.0e6 * PLANT.get("memory", 1.0)

    @machine_yardstick("GFLOP/s")
    def track_machine_gflops(self):
        """Stands for a yardstick of the machine; a `machine` plant plays a machine that drifted."""
        return 90.0 * PLANT.get("machine", 1.0)


class Params:
    params = [[1, 2]]
    param_names = ["size"]
    rounds = 1
    repeat = 7
    number = 1
    warmup_time = 0

    def time_sized(self, size):
        time.sleep(0.005 * size * PLANT.get("time", 1.0) * JITTER)
'''


class ToyRepo:
    """A git repository with the toy suite; `commit(**plant)` makes a commit with those factors."""

    def __init__(self, root: Path, env_type: str = "existing") -> None:
        self.root = root
        self.config = root / "asv.conf.json"
        root.mkdir(parents=True, exist_ok=True)
        (root / "toy").mkdir(exist_ok=True)
        (root / "benchmarks").mkdir(exist_ok=True)
        (root / "benchmarks" / "__init__.py").write_text("")
        (root / "benchmarks" / "bench.py").write_text(BENCHMARKS)
        (root / ".gitignore").write_text(".asv/\nhtml/\n.jitter-counter\n")
        (root / "pyproject.toml").write_text(
            textwrap.dedent(
                """\
                [build-system]
                requires = ["setuptools"]
                build-backend = "setuptools.build_meta"
                [project]
                name = "toy"
                version = "0.1"
                [tool.setuptools]
                packages = ["toy"]
                """
            )
        )
        conf = {
            "version": 1,
            "project": "toy",
            "repo": ".",
            "branches": ["main"],
            "environment_type": env_type,
            "pythons": [sys.executable] if env_type == "existing" else [f"{sys.version_info[0]}.{sys.version_info[1]}"],
            "benchmark_dir": "benchmarks",
            "results_dir": ".asv/results",
            "html_dir": "html",
            "env_dir": ".asv/env",
            "launch_method": "forkserver",
            "plugins": [".veracity.tracking.asv_plugin"],
        }
        if env_type != "existing":
            conf["build_command"] = ["python -m pip wheel --no-deps -w {build_cache_dir} {build_dir}"]
        # A comment, as the project's own asv.conf.json has them.
        self.config.write_text("// toy suite\n" + json.dumps(conf, indent=2) + "\n")
        self.git("init", "-q", "-b", "main")
        self.commits: dict[str, str] = {}
        self.asv("machine", "--yes", "--machine", MACHINE)

    def git(self, *args: str) -> str:
        return subprocess.run(["git", *args], cwd=self.root, check=True, capture_output=True, text=True).stdout

    def commit(self, label: str, **plant: float) -> str:
        (self.root / "toy" / "__init__.py").write_text(f"PLANT = {plant!r}\n")
        (self.root / "LABEL").write_text(label + "\n")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", label)
        self.git("tag", label)
        sha = self.git("rev-parse", "HEAD").strip()
        self.commits[label] = sha
        return sha

    def asv(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run asv; with `check`, any exit code but 0 fails (asv run's 2 says some benchmarks failed)."""
        done = subprocess.run(
            [sys.executable, "-m", "asv", "--config", str(self.config), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"asv {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def run_at(self, label: str, *bench: str) -> None:
        """Check the commit out and benchmark it (existing environment: it is the code under test).

        `bench`: regexes of the benchmarks to run (all by default). Every one run must have
        recorded a value: a benchmark that crashed is recorded as null, and a verdict on a
        history with nulls would say nothing about the code (two failures compare as no change).
        """
        self.git("checkout", "-q", self.commits[label])
        selection = [arg for regex in bench for arg in ("--bench", regex)]
        done = self.asv(
            "run", "--record-samples", "--machine", MACHINE, "--set-commit-hash", self.commits[label], *selection
        )
        values = self.results_at(label)
        failed = sorted(name for name, value in values.items() if value is None or any(v is None for v in value))
        if not values or failed:
            said = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            raise AssertionError(f"toy benchmarks failed at {label}: {failed or 'no results'}\n{said}")

    def results_at(self, label: str) -> dict[str, list[float | None] | None]:
        """Benchmark name -> its values at the commit on the toy machine (one per parameter; None where it failed)."""
        sha = self.commits[label]
        values: dict[str, list[float | None] | None] = {}
        for path in (self.root / ".asv" / "results" / MACHINE).glob(f"{sha[:8]}-*.json"):
            data = json.loads(path.read_text())
            if data.get("commit_hash") == sha:
                column = data["result_columns"].index("result")
                values.update({name: row[column] for name, row in data["results"].items()})
        return values

    def checkout_main(self) -> None:
        self.git("checkout", "-q", "main")
