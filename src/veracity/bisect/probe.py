"""One probe of `veracity bisect`: a candidate commit judged against the current good end.

A probe first looks at what this machine already stored for both commits (a `make bench` history,
earlier probes): when the stored results alone settle the question (judged as `veracity compare`
judges unpaired runs, with the wider unpaired band), no benchmark runs. Otherwise the two commits
are measured in interleaved rounds (one asv run a round, the order alternating) and judged on their
rounds' paired ratios with that run's own noise, grey results given more rounds: the rule and the
code of `veracity continuous` (tracking.continuous); never one sample against one.

Work counts are the exception: a count repeats run to run (callgrind instructions, within 0.15%),
so rounds would only measure the same number again. When every benchmark bisected is a count, a
probe measures each commit this machine has no result for once (the good end, measured by an
earlier probe, is not run again) and judges the stored counts at the count's floor.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from veracity.bisect.search import ProbeResult, Step
from veracity.errors import AsvRunError, ResultsError
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import RunOptions, bench_regex, selected_by
from veracity.tracking.continuous import DEFAULT_ROUNDS, ONE_ROUND_UNITS, compare_in_rounds
from veracity.tracking.detect import Comparison, Policy, Verdict
from veracity.tracking.noise import NoiseFile
from veracity.tracking.results import ResultsStore
from veracity.tracking.rounds import RoundRunner
from veracity.tracking.workflow import Log, compare_commits

# Verdicts that settle a probe; every other one (grey, incomparable, failed, broken) makes it a skip.
_NOT_WORSE = (Verdict.UNCHANGED, Verdict.BETTER, Verdict.DESCRIPTIVE)


@dataclass(frozen=True)
class ProbeSettings:
    """What every probe of one bisection shares."""

    config: AsvConfig
    machine: str
    bench: tuple[str, ...]  # asv --bench regexes of the benchmarks bisected
    noise: NoiseFile | None = None
    policy: Policy = Policy()  # noqa: RUF009
    rerun: int = 2
    rounds: int = DEFAULT_ROUNDS
    quiet_asv: bool = True
    show_stderr: bool = False


def _selected(rows: Sequence[Comparison], bench: Sequence[str]) -> list[Comparison]:
    return [r for r in rows if selected_by(bench, r.key) and r.verdict is not Verdict.DESCRIPTIVE]


def step_of(rows: Sequence[Comparison]) -> tuple[Step, Comparison | None, str]:
    """A probe's answer from its judged rows: worse if any is worse; good if all are settled and none
    is worse; else skip. Also the row that decided it and why, in words."""
    if not rows:
        return Step.SKIP, None, "no result of the benchmark at one of the two commits"
    worse = [r for r in rows if r.verdict is Verdict.WORSE]
    if worse:
        return Step.WORSE, max(worse, key=lambda r: abs((r.ratio or 1.0) - 1.0)), "worse"
    unsettled = [r for r in rows if r.verdict not in _NOT_WORSE]
    if unsettled:
        row = unsettled[0]
        reason = {
            Verdict.FAILED: "the benchmark fails at this commit",
            Verdict.BROKEN: "the benchmark fails at both commits",
            Verdict.GREY: "inconclusive after re-runs",
            Verdict.INCOMPARABLE: "no comparable result (did the commit build?)",
        }.get(row.verdict, row.verdict.value)
        return Step.SKIP, row, reason
    return Step.GOOD, max(rows, key=lambda r: abs((r.ratio or 1.0) - 1.0)), "not worse"


def _stored_keys(config: AsvConfig, machine: str, commit: str, bench: Sequence[str]) -> set[str]:
    store = ResultsStore(config.results_dir)
    return {r.key for r in store.results_for(machine, commit) if selected_by(bench, r.key) and r.ok}


def _describe(row: Comparison | None, reason: str, how: str) -> str:
    if row is None or row.ratio is None:
        return f"{reason} ({how})"
    noise = f"; noise: {row.noise_source}" if row.noise_source else ""
    return f"{reason}: {row.key} ratio {row.ratio:.3f}, threshold {row.threshold:.1%}{noise} ({how})"


def _result(good: str, candidate: str, step: Step, row: Comparison | None, detail: str, started: float) -> ProbeResult:
    return ProbeResult(
        good=good,
        candidate=candidate,
        step=step,
        detail=detail,
        seconds=time.monotonic() - started,
        ratio=row.ratio if row else None,
        noise_source=row.noise_source if row else "",
    )


def _skipped(good: str, candidate: str, error: Exception, started: float) -> ProbeResult:
    """A probe whose measurement failed (a commit that does not build, a benchmark that fails)."""
    first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
    return _result(good, candidate, Step.SKIP, None, f"skipped: {first_line}", started)


def counts_only(config: AsvConfig, bench: Sequence[str]) -> bool:
    """Whether every judged benchmark `bench` selects is a work count (as this machine's results last
    declared the suite); False when none is known yet, which sends the probe to paired rounds."""
    try:
        declared = ResultsStore(config.results_dir).benchmarks()
    except ResultsError:
        return False
    judged = [info for name, info in declared.items() if selected_by(bench, name) and not info.descriptive]
    return bool(judged) and all(info.plain_unit in ONE_ROUND_UNITS for info in judged)


def _judged_from_stored(
    s: ProbeSettings, good: str, candidate: str, log: Log
) -> tuple[Step, Comparison | None, str, list[Comparison]] | None:
    """The probe's answer from what both commits have stored; None when the files cannot be judged."""
    try:
        stored = compare_commits(
            s.config,
            good,
            candidate,
            machine=s.machine,
            noise=s.noise,
            policy=s.policy,
            rerun=0,
            log=log,
            bench=s.bench,
        )
    except ResultsError:
        return None
    rows = _selected(stored.rows, s.bench)
    return (*step_of(rows), rows)


def _probe_counts(
    s: ProbeSettings, good: str, candidate: str, log: Log, started: float
) -> tuple[ProbeResult, list[Comparison]]:
    """One measurement of each commit with no stored count, then the stored counts judged."""
    missing = [c for c in (good, candidate) if not _stored_keys(s.config, s.machine, c, s.bench)]
    options = RunOptions(bench=s.bench, machine=s.machine, interleave=True, show_stderr=s.show_stderr)
    try:
        RoundRunner(s.config, missing, options, quiet=s.quiet_asv, log=log).run(1)
    except (AsvRunError, ResultsError) as error:
        return _skipped(good, candidate, error, started), []
    judged = _judged_from_stored(s, good, candidate, log)
    if judged is None:
        return _result(good, candidate, Step.SKIP, None, "skipped: its results cannot be read", started), []
    step, row, reason, rows = judged
    how = f"work counts: {len(missing)} commit(s) measured once, counts repeat"
    return _result(good, candidate, step, row, _describe(row, reason, how), started), rows


def probe_commits(settings: ProbeSettings, good: str, candidate: str, log: Log) -> tuple[ProbeResult, list[Comparison]]:
    """Judge `candidate` against `good`: from stored results when they settle it, else by measuring
    (work counts once a commit, anything else in paired rounds). Also the judged rows of the selected
    benchmarks (empty when the probe was skipped)."""
    started = time.monotonic()
    s = settings
    both_stored = all(_stored_keys(s.config, s.machine, c, s.bench) for c in (good, candidate))
    if both_stored:
        judged = _judged_from_stored(s, good, candidate, log)
        if judged is not None and judged[0] is not Step.SKIP:
            step, row, reason, rows = judged
            return _result(good, candidate, step, row, _describe(row, reason, "stored results"), started), rows
    elif counts_only(s.config, s.bench):
        return _probe_counts(s, good, candidate, log, started)
    options = RunOptions(bench=s.bench, machine=s.machine, interleave=True, show_stderr=s.show_stderr)
    try:
        outcome = compare_in_rounds(
            s.config,
            good,
            candidate,
            options,
            rounds=s.rounds,
            noise=s.noise,
            policy=s.policy,
            rerun=s.rerun,
            log=log,
            quiet_asv=s.quiet_asv,
        )
    except (AsvRunError, ResultsError) as error:
        return _skipped(good, candidate, error, started), []
    rows = _selected(outcome.rows, s.bench)
    step, row, reason = step_of(rows)
    how = f"paired run, {s.rounds} rounds" + (f", {outcome.reruns} re-run(s)" if outcome.reruns else "")
    return _result(good, candidate, step, row, _describe(row, reason, how), started), rows


def narrowed(settings: ProbeSettings, rows: Sequence[Comparison]) -> ProbeSettings:
    """Settings that probe only the benchmarks found worse across the whole range: cheaper, and the
    question bisect answers is where *this* regression came from."""
    worse = tuple(bench_regex(r.key) for r in rows if r.verdict is Verdict.WORSE)
    return replace(settings, bench=worse) if worse else settings
