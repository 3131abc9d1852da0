"""The tracker's multi-step flows: compare with bounded re-runs, continuous, and A/A calibration."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import bench_regex, can_run, run_benchmarks
from veracity.tracking.detect import Comparison, Policy, Verdict, compare_results
from veracity.tracking.errors import ResultsError
from veracity.tracking.gitrepo import rev_parse
from veracity.tracking.noise import NoiseBand, NoiseFile, estimate_band
from veracity.tracking.results import BenchmarkResult, ResultsStore

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def resolve_commit(config: AsvConfig, store: ResultsStore, machine: str, name: str) -> str:
    """A full hash from a branch, tag, HEAD~n or hash prefix, as long as results exist for it."""
    full = rev_parse(config.repo, name)
    if full is not None and full in store.commits(machine):
        return full
    found = store.resolve_commit(machine, name)
    if found is not None:
        return found
    raise ResultsError(f"no results for {name!r} on machine {machine!r}; run `asv run {name}^!` first")


@dataclass(frozen=True)
class CompareOutcome:
    before: str
    after: str
    machine: str
    rows: list[Comparison]
    reruns: int


class _Pools:
    """Results of each commit gathered over re-runs: samples accumulate in asv's own file with
    --append-samples, values of benchmarks without samples are kept here, one per run."""

    def __init__(self, store: ResultsStore, machine: str, commits: Sequence[str]) -> None:
        self.machine = machine
        self.pools = {c: list(store.results_for(machine, c)) for c in commits}

    def refresh(self, store: ResultsStore, commit: str, keys: set[str]) -> None:
        fresh = [r for r in store.results_for(self.machine, commit) if r.key in keys]
        old = self.pools[commit]
        kept = [r for r in old if r.key not in keys]
        for key in keys:
            new = [r for r in fresh if r.key == key]
            previous = [r for r in old if r.key == key]
            if any(r.samples for r in new):
                kept += new  # the file now holds every sample so far
            else:
                kept += previous + new
        self.pools[commit] = kept


def compare_commits(
    config: AsvConfig,
    before: str,
    after: str,
    *,
    machine: str | None = None,
    noise: NoiseFile | None = None,
    policy: Policy = Policy(),  # noqa: B008
    rerun: int = 0,
    log: Log = _stderr,
    quiet_asv: bool = False,
) -> CompareOutcome:
    """Judge `after` against `before`; re-run grey benchmarks on both up to `rerun` times first."""
    store = ResultsStore(config.results_dir)
    machine = store.pick_machine(machine)
    b, a = (resolve_commit(config, store, machine, x) for x in (before, after))
    pools = _Pools(store, machine, [b, a])

    def judge(final: bool) -> list[Comparison]:
        return compare_results(
            pools.pools[b],
            pools.pools[a],
            benchmarks=store.benchmarks(),
            noise=noise,
            machine=machine,
            policy=policy,
            final=final,
        )

    rows = judge(final=rerun == 0)
    done = 0
    while done < rerun:
        grey = sorted({r.key for r in rows if r.verdict is Verdict.GREY})
        if not grey:
            break
        runnable = [c for c in dict.fromkeys([b, a]) if can_run(config, c)]
        if not runnable:
            log("veracity: cannot re-run grey benchmarks here (existing environment on another commit)")
            break
        done += 1
        log(f"veracity: re-run {done}/{rerun} of {len(grey)} inconclusive benchmark(s): {', '.join(grey)}")
        for commit in runnable:
            run_benchmarks(
                config,
                [commit],
                bench=[bench_regex(k) for k in grey],
                machine=machine,
                append_samples=True,
                quiet=quiet_asv,
            )
        store = ResultsStore(config.results_dir)
        for commit in runnable:
            pools.refresh(store, commit, set(grey))
        rows = judge(final=done >= rerun)
    if any(r.verdict is Verdict.GREY for r in rows):
        rows = judge(final=True)
    return CompareOutcome(b, a, machine, rows, done)


def _snapshot_results(config: AsvConfig, commit: str) -> Path:
    """Copy every existing result file of `commit`, so calibration can leave history as it found it."""
    backup = Path(tempfile.mkdtemp(prefix="veracity-calibrate-"))
    if config.results_dir.is_dir():
        for f in config.results_dir.glob(f"*/{commit[:8]}-*.json"):
            dest = backup / f.parent.name
            dest.mkdir(exist_ok=True)
            shutil.copy2(f, dest / f.name)
    return backup


def _restore_results(config: AsvConfig, commit: str, backup: Path) -> None:
    for f in config.results_dir.glob(f"*/{commit[:8]}-*.json"):
        f.unlink()
    for f in backup.glob("*/*.json"):
        target = config.results_dir / f.parent.name / f.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, target)
    shutil.rmtree(backup, ignore_errors=True)


@dataclass(frozen=True)
class Calibration:
    machine: str
    commit: str
    bands: list[NoiseBand]


def calibrate(
    config: AsvConfig,
    *,
    commit: str = "HEAD",
    runs: int = 5,
    bench: Sequence[str] = (),
    machine: str | None = None,
    noise_path: Path | None = None,
    log: Log = _stderr,
    quiet_asv: bool = False,
    keep_results: bool = False,
) -> Calibration:
    """Run the suite `runs` times on one commit (A/A), store each benchmark's band under its machine."""
    if runs < 2:
        raise ResultsError("calibration needs at least 2 runs; pass --runs 3 or more")
    full = rev_parse(config.repo, commit)
    if full is None:
        raise ResultsError(f"unknown commit {commit!r}; give a branch, tag or hash of {config.repo}")
    backup = _snapshot_results(config, full)
    per_run: list[list[BenchmarkResult]] = []
    try:
        for i in range(runs):
            log(f"veracity: calibration run {i + 1}/{runs} of {full[:8]}")
            run_benchmarks(config, [full], bench=bench, machine=machine, quiet=quiet_asv)
            store = ResultsStore(config.results_dir)
            chosen = store.pick_machine(machine)
            per_run.append([r for r in store.results_for(chosen, full) if r.ok])
    finally:
        if not keep_results:
            _restore_results(config, full, backup)
        else:
            shutil.rmtree(backup, ignore_errors=True)
    values: dict[str, list[float]] = {}
    for results in per_run:
        for r in results:
            assert r.value is not None
            values.setdefault(r.key, []).append(r.value)
    bands = [estimate_band(key, v) for key, v in sorted(values.items()) if len(v) >= 2]
    noise = NoiseFile.load(noise_path or config.noise_file)
    noise.update(chosen, full, bands)
    noise.save()
    return Calibration(chosen, full, bands)
