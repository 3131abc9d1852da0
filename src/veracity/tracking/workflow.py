"""The tracker's multi-step flows: compare with bounded re-runs, continuous, and A/A calibration."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from veracity.errors import ResultsError
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import RunOptions, bench_regex, can_run, run_benchmarks, selected_by
from veracity.tracking.detect import Comparison, Policy, compare_results
from veracity.tracking.drift import MachineDrift, machine_drift, without_yardsticks
from veracity.tracking.gitrepo import make_twin_commit, rev_parse
from veracity.tracking.greyrerun import rerun_grey
from veracity.tracking.noise import NoiseBand, NoiseFile, estimate_band, estimate_paired_band
from veracity.tracking.results import BenchmarkResult, ResultsStore
from veracity.tracking.rounds import RoundRunner, judged_on_rounds
from veracity.tracking.stats import median

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
    drift: list[MachineDrift] = field(default_factory=list)  # machine yardsticks that moved (tracking.drift)


class _Pools:
    """What each commit's judgement rests on: its first run, then, for a benchmark re-run because it
    was grey, its re-runs alone.

    A grey result is settled by its re-runs, not by the run that made it grey: that run was picked
    for lying near the line, so pooling it would pull every verdict toward the line (an A/A pair at
    +4.3% against a 4.2% band stayed +2.6% after two re-runs pooled with it, and was flagged). asv
    appends re-run samples to its own file (--append-samples), so a re-run's samples are the ones
    after the first run's; values of benchmarks without samples are kept here, one per re-run.
    """

    def __init__(self, store: ResultsStore, machine: str, commits: Sequence[str], bench: Sequence[str] = ()) -> None:
        self.machine = machine
        self.pools = {c: [r for r in store.results_for(machine, c) if selected_by(bench, r.key)] for c in commits}
        self.first_samples = {
            (c, r.env_name, r.key): len(r.samples) for c in commits for r in self.pools[c] if r.samples
        }
        self.reruns: dict[tuple[str, str], int] = {}  # (commit, key) -> re-runs so far

    def runs(self, before: str, after: str) -> dict[str, int]:
        """Per re-run key, the re-runs pooled on the side with fewer (at least 1)."""
        keys = {key for _, key in self.reruns}
        return {k: max(1, min(self.reruns.get((before, k), 0), self.reruns.get((after, k), 0))) for k in keys}

    def _rerun_part(self, commit: str, result: BenchmarkResult) -> BenchmarkResult:
        """`result` (asv's file: first run's samples, then every re-run's) without the first run's samples."""
        first = self.first_samples.get((commit, result.env_name, result.key), 0)
        if not result.samples or len(result.samples) <= first:
            return result
        samples = result.samples[first:]
        return replace(result, samples=samples, value=median(samples))

    def refresh(self, store: ResultsStore, commit: str, keys: set[str]) -> None:
        fresh = [r for r in store.results_for(self.machine, commit) if r.key in keys]
        old = self.pools[commit]
        kept = [r for r in old if r.key not in keys]
        for key in keys:
            new = [r for r in fresh if r.key == key]
            earlier_reruns = [r for r in old if r.key == key] if self.reruns.get((commit, key), 0) else []
            if any(r.samples for r in new):
                kept += [self._rerun_part(commit, r) for r in new]  # every re-run's samples so far
            else:
                kept += earlier_reruns + new
        self.pools[commit] = kept
        for key in keys:
            self.reruns[commit, key] = self.reruns.get((commit, key), 0) + 1


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
    paired: bool = False,
    bench: Sequence[str] = (),
    rounds: int = 0,
) -> CompareOutcome:
    """Judge `after` against `before`; re-run grey benchmarks on both up to `rerun` times first.

    `rounds` (2 or more): each re-run measures the grey benchmarks in that many interleaved rounds of
    both commits (tracking.rounds), and their verdict rests on those rounds with the noise measured
    in them (tracking.inrun), as `veracity continuous` judges; where the environment cannot check
    out both commits, re-runs pool as below.

    `bench`: asv --bench patterns; only the results they select are judged (and re-run). After
    `asv continuous -b X` the two commits' result files also hold what earlier runs measured, at
    other times: judged with the paired bands and re-run, those made a pipeline-only run re-run 42
    vector-search, NLI and embedding benchmarks.

    `paired`: the two commits were measured in one asv run (asv continuous), so the paired bands
    apply; re-runs of grey benchmarks also run both commits in one asv run. Machine yardsticks are
    not rows: they are judged once, from the first run, into the outcome's `drift`.
    """
    store = ResultsStore(config.results_dir)
    machine = store.pick_machine(machine)
    b, a = (resolve_commit(config, store, machine, x) for x in (before, after))
    pools = _Pools(store, machine, [b, a], bench)
    benchmarks = store.benchmarks()
    drift = machine_drift(
        pools.pools[b],
        pools.pools[a],
        benchmarks=benchmarks,
        noise=noise,
        machine=machine,
        paired=paired,
    )

    def judge(final: bool) -> list[Comparison]:
        return compare_results(
            without_yardsticks(pools.pools[b], benchmarks),
            without_yardsticks(pools.pools[a], benchmarks),
            benchmarks=benchmarks,
            noise=noise,
            machine=machine,
            policy=policy,
            final=final,
            paired=paired,
            runs=pools.runs(b, a),
        )

    runner: RoundRunner | None = None

    def judged(final: bool) -> list[Comparison]:
        rows = judge(final)
        return judged_on_rounds(rows, runner.values, b, a, policy, final=final) if runner else rows

    def remeasure(grey: list[str], batch: int) -> bool:
        nonlocal runner
        runnable = [c for c in dict.fromkeys([b, a]) if can_run(config, c)]
        if not runnable:
            log("veracity: cannot re-run grey benchmarks here (existing environment on another commit)")
            return False
        log(f"veracity: re-run {batch}/{rerun} of {len(grey)} inconclusive benchmark(s): {', '.join(grey)}")
        if rounds >= 2 and len(runnable) == 2:
            if runner is None:
                options = RunOptions(machine=machine)
                runner = RoundRunner(config, [b, a], options, quiet=quiet_asv, log=log, keep_stored=True)
            runner.run(rounds, grey)
            return True
        for commits in [runnable] if paired else [[c] for c in runnable]:
            rerun_options = RunOptions(bench=tuple(bench_regex(k) for k in grey), machine=machine, append_samples=True)
            run_benchmarks(config, commits, rerun_options, quiet=quiet_asv)
        store = ResultsStore(config.results_dir)
        for commit in runnable:
            pools.refresh(store, commit, set(grey))
        return True

    rows, done = rerun_grey(judged(final=rerun == 0), rerun, lambda final: judged(final=final), remeasure)
    return CompareOutcome(b, a, machine, rows, done, drift)


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
    too_noisy: list[NoiseBand] = field(default_factory=list)  # band >= 100%: not saved


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
    paired: bool = True,
) -> Calibration:
    """Run the suite `runs` times on one commit (A/A), store each benchmark's bands under its machine.

    With `paired` (the default), every run also measures a twin of the commit (same tree, a commit
    object no branch points to) with rounds interleaved, as asv continuous measures two commits:
    the ratio commit/twin of each run gives the paired band. Results of the commit are restored
    and the twin's are removed afterwards, unless `keep_results`.
    """
    if runs < 2:
        raise ResultsError("calibration needs at least 2 runs; pass --runs 3 or more")
    full = rev_parse(config.repo, commit)
    if full is None:
        raise ResultsError(f"unknown commit {commit!r}; give a branch, tag or hash of {config.repo}")
    if paired and config.uses_existing_env:
        log("veracity: an existing environment cannot check out a twin commit; calibrating across runs only")
        paired = False
    twin = make_twin_commit(config.repo, full) if paired else None
    backup = _snapshot_results(config, full)
    per_run: list[list[BenchmarkResult]] = []
    twin_ratios: dict[str, list[float]] = {}
    try:
        for i in range(runs):
            beside = f" with its twin {twin[:8]}" if twin else ""
            log(f"veracity: calibration run {i + 1}/{runs} of {full[:8]}{beside}")
            run_benchmarks(
                config,
                [full, twin] if twin else [full],
                RunOptions(bench=tuple(bench), machine=machine),
                quiet=quiet_asv,
            )
            store = ResultsStore(config.results_dir)
            chosen = store.pick_machine(machine)
            mine = [r for r in store.results_for(chosen, full) if r.ok]
            per_run.append(mine)
            if twin:
                theirs = {r.key: r for r in store.results_for(chosen, twin) if r.ok}
                for r in mine:
                    other = theirs.get(r.key)
                    if other is not None and other.value and r.value:
                        twin_ratios.setdefault(r.key, []).append(r.value / other.value)
    finally:
        if twin:
            for f in config.results_dir.glob(f"*/{twin[:8]}-*.json"):
                f.unlink()
        if not keep_results:
            _restore_results(config, full, backup)
        else:
            shutil.rmtree(backup, ignore_errors=True)
    values: dict[str, list[float]] = {}
    for results in per_run:
        for r in results:
            assert r.value is not None
            values.setdefault(r.key, []).append(r.value)
    estimated = [
        estimate_paired_band(estimate_band(key, v), twin_ratios.get(key, []))
        for key, v in sorted(values.items())
        if len(v) >= 2
    ]
    bands = [usable for band in estimated if (usable := _usable_band(band)) is not None]
    noise = NoiseFile.load(noise_path or config.noise_file)
    unusable = [b for b in estimated if _usable_band(b) is None]
    noise.update(chosen, full, bands, drop=[b.key for b in unusable])
    noise.save()
    return Calibration(chosen, full, bands, too_noisy=[b for b in unusable if b.band >= 1])


def _usable_band(band: NoiseBand) -> NoiseBand | None:
    """A band of 100% or more can tell nothing from noise (and the noise file holds fractions in (0, 1)):
    such a figure is left uncalibrated, and said so; a paired band that wide is dropped alone."""
    if band.band >= 1 or band.runs < 2:  # runs: the positive values it saw (a count of 0 has no ratio)
        return None
    if band.paired is not None and band.paired >= 1:
        return replace(band, paired=None, pairs=0)
    return band
