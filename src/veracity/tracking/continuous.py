"""`veracity continuous`: two commits measured in interleaved rounds and judged with the noise of that very run."""

from __future__ import annotations

import sys

from veracity.errors import ResultsError
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import RunOptions, selected_by
from veracity.tracking.detect import Comparison, Policy, Verdict, compare_results
from veracity.tracking.direction import is_yardstick
from veracity.tracking.drift import machine_drift, without_yardsticks
from veracity.tracking.greyrerun import rerun_grey
from veracity.tracking.noise import NoiseFile
from veracity.tracking.results import BenchmarkInfo, BenchmarkResult, ResultsStore, benchmark_info
from veracity.tracking.rounds import RoundRunner, judged_on_rounds
from veracity.tracking.workflow import CompareOutcome, Log

# Six rounds: three of each order (A B, B A). Fewer leave a t-interval too wide to settle a 5% change
# (t for 3 degrees of freedom is 3.2, for 5 it is 2.6); grey results get more.
DEFAULT_ROUNDS = 6


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Work counts (callgrind instructions) are the same on every run: one round says all there is.
ONE_ROUND_UNITS = frozenset({"instructions"})


def _worth_more_rounds(row: Comparison, info: BenchmarkInfo) -> bool:
    """Whether more rounds can tell anything about `row`: a figure judged on both sides (not failed,
    broken, descriptive or incomparable), neither a machine yardstick nor a work count."""
    judged = row.verdict in (Verdict.WORSE, Verdict.BETTER, Verdict.UNCHANGED, Verdict.GREY)
    return judged and info.plain_unit not in ONE_ROUND_UNITS and not is_yardstick(info.unit)


def compare_in_rounds(
    config: AsvConfig,
    before: str,
    after: str,
    run: RunOptions,
    *,
    rounds: int,
    noise: NoiseFile | None = None,
    policy: Policy = Policy(),  # noqa: B008
    rerun: int = 0,
    log: Log = _stderr,
    quiet_asv: bool = False,
) -> CompareOutcome:
    """Measure `before` and `after` (full hashes) in `rounds` interleaved rounds and judge each benchmark
    on its rounds' paired ratios, with the noise of this run (tracking.inrun).

    The first round runs what `run.bench` selects; later rounds only what more rounds can inform (see
    `_worth_more_rounds`): the rest is judged from the first round as `compare_commits` judges it (the
    calibrated band, else the blanket threshold, and its source says which). A grey result gets up to
    `rerun` more batches of `rounds` rounds.
    """
    if rounds < 2:
        raise ResultsError("an in-run comparison needs at least 2 rounds; pass --rounds 2 or more")
    assert run.machine is not None, "the machine is chosen before any round runs"
    runner = RoundRunner(config, [before, after], run, quiet=quiet_asv, log=log)
    runner.run(1)
    store = ResultsStore(config.results_dir)
    benchmarks = store.benchmarks()
    machine = store.pick_machine(run.machine)

    def stored(commit: str) -> list[BenchmarkResult]:
        return [
            r for r in ResultsStore(config.results_dir).results_for(machine, commit) if selected_by(run.bench, r.key)
        ]

    first_b, first_a = stored(before), stored(after)
    drift = machine_drift(first_b, first_a, benchmarks=benchmarks, noise=noise, machine=machine, paired=True)

    def judge(final: bool) -> list[Comparison]:
        rows = compare_results(
            without_yardsticks(stored(before), benchmarks),
            without_yardsticks(stored(after), benchmarks),
            benchmarks=benchmarks,
            noise=noise,
            machine=machine,
            policy=policy,
            final=final,
            paired=True,
        )
        return judged_on_rounds(rows, runner.values, before, after, policy, final=final)

    first = judge(final=False)
    repeat = [r.key for r in first if _worth_more_rounds(r, benchmark_info(benchmarks, r.benchmark))]
    if repeat and rounds > 1:
        runner.run(rounds - 1, sorted(set(repeat)))
    rows = judge(final=rerun == 0)

    def remeasure(grey: list[str], batch: int) -> bool:
        log(
            f"veracity: re-run {batch}/{rerun}: {rounds} more rounds of {len(grey)} inconclusive benchmark(s): "
            + ", ".join(grey)
        )
        runner.run(rounds, grey)
        return True

    rows, done = rerun_grey(rows, rerun, lambda final: judge(final=final), remeasure)
    return CompareOutcome(before, after, machine, rows, done, drift)
