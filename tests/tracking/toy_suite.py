"""A toy git repository with an asv suite whose speed, throughput and recall are planted per commit.

Plants are exact: each commit's toy/__init__.py holds the factors the benchmarks apply, so a test
knows what changed. Benchmarks sleep rather than spin, to leave the CPUs to others. `existing`
environments (the interpreter running the tests) make each `asv run` take about a second; only the
`asv continuous` test builds a virtualenv.
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
    """Deterministic run-to-run drift: each import of this module takes the next factor."""
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
        return 1000.0 * PLANT.get("throughput", 1.0)

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
        done = subprocess.run(
            [sys.executable, "-m", "asv", "--config", str(self.config), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
        )
        if check and done.returncode not in (0, 2):
            raise AssertionError(f"asv {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done

    def run_at(self, label: str) -> None:
        """Check the commit out and benchmark it (existing environment: it is the code under test)."""
        self.git("checkout", "-q", self.commits[label])
        self.asv("run", "--record-samples", "--machine", MACHINE, "--set-commit-hash", self.commits[label])

    def checkout_main(self) -> None:
        self.git("checkout", "-q", "main")
