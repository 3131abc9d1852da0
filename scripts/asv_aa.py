"""A/A runs of a part of the suite under real asv: the spread of each figure, and where a band is
known for the machine, how many runs fall outside it.

Runs `asv run --python=same --quick --launch-method forkserver --bench PATTERN` RUNS times on the
working tree (this interpreter's `veracity` and `benchmarks/`), each a fresh asv invocation with its
own forkserver and run memos, as `make bench` measures one commit, and prints, per benchmark, the
value of every run and the spread (max / min - 1). Nothing changes between runs, so any spread is
the measurement's own. Exit 1 when a spread passes `--limit`.

    PYTHONPATH=. .venv/bin/python scripts/asv_aa.py --runs 6                      # memory by phase
    PYTHONPATH=. .venv/bin/python scripts/asv_aa.py --runs 6 --bench 'cold_start\\.' \
        --machine amd-epyc-9r14-2c-avx512 --cache-dir /tmp/empty-cache --limit 1  # a new machine

`--machine` names the machine the product would judge (its band from `benchmarks/noise.json`:
calibrated there, or the prior of its hardware class); each run is then also judged against the
median of the runs with that band, as a verdict on one commit against its twin would be, and the
table says where the band came from. `--cache-dir` points models and data at another folder (an
empty one is a new machine: `veracity models build`, as `make install` runs it, fills it before the
first run; on a warm cache it only checks).

Each run's results go to a temporary directory; the user's ~/.asv-machine.json is not touched.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MACHINE = "asv-aa"
DEFAULT_BENCH = r"(EmbeddingMemory|NliMemory|PipelineMemory)\."


def _config(tmp: Path, benchmark_dir: Path) -> Path:
    """The project's asv.conf.json with its outputs moved under `tmp` (an `existing` env installs nothing)."""
    from asv.util import load_json

    conf = load_json(str(REPO / "asv.conf.json"), js_comments=True)
    for key in ("matrix", "plugins", "build_command", "install_command"):
        conf.pop(key, None)
    conf.update(
        repo=str(REPO),
        benchmark_dir=str(benchmark_dir),
        env_dir=str(tmp / "env"),
        results_dir=str(tmp / "results"),
        html_dir=str(tmp / "html"),
    )
    path = tmp / "asv.conf.json"
    path.write_text(json.dumps(conf, indent=2))
    return path


def _asv(config: Path, *args: str, env: dict[str, str], log: Path) -> int:
    argv = [sys.executable, "-m", "asv", args[0], "--config", str(config), *args[1:]]
    with open(log, "a") as out:
        return subprocess.run(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, check=False).returncode


def one_run(
    bench: str, benchmark_dir: Path, tmp: Path, env: dict[str, str], log: Path, machine: str = MACHINE
) -> dict[str, float | None]:
    """One fresh `asv run` of the selected benchmarks: {result key: value}."""
    from veracity.tracking.results import parse_result_file

    config = _config(tmp, benchmark_dir)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, check=True, capture_output=True, text=True)
    _asv(config, "machine", "--yes", "--machine", machine, env=env, log=log)
    code = _asv(
        config,
        "run",
        "--python=same",
        "--quick",
        "--launch-method",
        "forkserver",
        "--show-stderr",
        "--set-commit-hash",
        head.stdout.strip(),
        "--machine",
        machine,
        "--bench",
        bench,
        env=env,
        log=log,
    )
    if code not in (0, 2):
        raise SystemExit(f"asv run failed with exit code {code}; see {log}")
    files = [p for p in (tmp / "results" / machine).glob("*.json") if p.name != "machine.json"]
    return {r.key: r.value for r in parse_result_file(files[0], machine).results}


def spread(values: list[float]) -> float:
    if max(values) == min(values):
        return 0.0
    return max(values) / min(values) - 1 if min(values) > 0 else float("inf")


def outside_band(values: list[float], threshold: float) -> int:
    """How many runs a threshold flags against the runs' median (either side: an A/A has no direction)."""
    centre = statistics.median(values)
    return sum(abs(v / centre - 1) > threshold for v in values)


def measure_runs(args: argparse.Namespace) -> list[dict[str, float | None]]:
    """`args.runs` fresh asv runs of the selection: {result key: value} each."""
    from veracity.config import default_cache_dir
    from veracity.tracking.asvrun import bench_environment

    runs: list[dict[str, float | None]] = []
    with tempfile.TemporaryDirectory(prefix="asv-aa-") as root:
        env = {
            **os.environ,
            **bench_environment(REPO / "asv.conf.json"),
            "HOME": root,  # asv's machine file; the user's ~/.asv-machine.json is never touched
            "VERACITY_CACHE_DIR": str(args.cache_dir or default_cache_dir()),  # the models, not under HOME
        }
        env.pop("ASV_CONFIG", None)
        log = args.log
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        # What a new machine's `make install` builds, built before the first run, not by it: in an empty
        # --cache-dir the first cold process would train the NLI model inside the benchmark and time out.
        build = [sys.executable, "-m", "veracity.cli", "models", "build"]
        with open(log, "a") as out:
            subprocess.run(build, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
        for i in range(args.runs):
            run_dir = Path(root) / f"run{i}"
            run_dir.mkdir()
            runs.append(one_run(args.bench, args.benchmark_dir.resolve(), run_dir, env, log, args.machine))
            print(f"run {i + 1}/{args.runs} done", file=sys.stderr, flush=True)
        if args.json:
            args.json.write_text(json.dumps(runs, indent=2))
    return runs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--bench", default=DEFAULT_BENCH, help="asv --bench pattern (default: the memory tracks)")
    parser.add_argument("--limit", type=float, default=0.05, help="largest spread allowed (default 0.05)")
    parser.add_argument("--json", type=Path, help="also write every run's values here")
    parser.add_argument(
        "--benchmark-dir",
        type=Path,
        default=REPO / "benchmarks",
        help="the suite to run (default: the working tree's; e.g. an older commit's, from git archive)",
    )
    parser.add_argument("--machine", default=MACHINE, help="machine name the runs are recorded and judged under")
    parser.add_argument("--cache-dir", type=Path, help="models and data (default: the product's default cache)")
    parser.add_argument("--log", type=Path, default=REPO / "test-artifacts" / "asv-aa.log")
    parser.add_argument("--rejudge", type=Path, help="judge the runs a --json file holds instead of running")
    args = parser.parse_args()

    from veracity.tracking.detect import Policy, band_floor
    from veracity.tracking.noise import NoiseFile

    noise = NoiseFile.load(REPO / "benchmarks" / "noise.json")
    runs = json.loads(args.rejudge.read_text()) if args.rejudge else measure_runs(args)
    floor = band_floor(Policy(), "")  # the product floors a band at this (3%; see detect.judge)
    worst, flagged, judged = 0.0, 0, 0
    sources: set[str] = set()
    print(f"{'benchmark':<64} {'min':>10} {'max':>10} {'spread':>8} {'band':>7} {'outside':>8}  values")
    for key in sorted(runs[0]):
        values = [r.get(key) for r in runs]
        if all(v is not None and math.isnan(v) for v in values):
            continue  # a parameter combination the pattern did not select: asv stores NaN
        if any(v is None for v in values):
            print(f"{key:<64} failed in some runs: {values}; see {args.log}")
            worst = float("inf")
            continue
        s = spread(values)  # type: ignore[arg-type]
        worst = max(worst, s)
        figure = noise.noise_for(args.machine, key)
        band, outside = "", ""
        if figure is not None and min(values) > 0:  # type: ignore[type-var]
            sources.add(figure.source)
            threshold = max(floor, figure.band)
            count = outside_band(values, threshold)  # type: ignore[arg-type]
            flagged, judged = flagged + count, judged + len(values)
            band, outside = f"{threshold:.1%}", f"{count}/{len(values)}"
        shown = " ".join(f"{v:.4g}" for v in values)  # type: ignore[str-format]
        print(f"{key:<64} {min(values):>10.4g} {max(values):>10.4g} {s:>8.1%} {band:>7} {outside:>8}  {shown}")
    print(f"largest spread {worst:.1%} (limit {args.limit:.0%})")
    if judged:
        threshold = f"band floored at {floor:.0%}"
        print(f"{flagged} of {judged} values outside their threshold ({threshold}); {'; '.join(sorted(sources))}")
    return 0 if worst <= args.limit else 1


if __name__ == "__main__":
    sys.exit(main())
