"""What the tracker's commands do, callable without argv: `veracity.cli` parses, these do the work.

Each returns a Report: the text to print (or write) and the exit code. Exit codes: 0 nothing wrong,
1 a regression (or a missed target with `check`); errors a user can cause raise VeracityError,
which the command line turns into one line and exit code 2.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from veracity.errors import AsvRunError, VeracityError
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import RunOptions, check_bench_patterns, register_machine, run_benchmarks
from veracity.tracking.continuous import DEFAULT_ROUNDS, compare_in_rounds
from veracity.tracking.detect import Policy, Verdict, past_by_more_than
from veracity.tracking.direction import plain_unit
from veracity.tracking.gitrepo import commits_between, rev_parse
from veracity.tracking.noise import NoiseFile
from veracity.tracking.triage import Acceptance, Triage, load_triage
from veracity.tracking.workflow import CompareOutcome, compare_commits

EXIT_OK, EXIT_WORSE = 0, 1
FORMATS = ("text", "json", "markdown")


@dataclass(frozen=True)
class Report:
    """A command's output and exit code; `summary` is the closing line of a text report on stdout."""

    text: str
    exit_code: int
    summary: str | None = None
    # The benchmarks that fail it, each with the commits on either side (key, before, after), largest
    # change first: what `--explain` explains.
    failing: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class TrackingFiles:
    """The committed files a judgement reads; None means the default beside the suite."""

    noise: Path | None = None
    triage: Path | None = None

    def load_noise(self, config: AsvConfig) -> NoiseFile:
        return NoiseFile.load(self.noise or config.noise_file)

    def load_triage(self, config: AsvConfig) -> Triage:
        return load_triage(self.triage or config.triage_file)


def check_policy(policy: Policy) -> Policy:
    """`policy` if its thresholds are fractions a person could mean, else a one-line error."""
    for flag, value in (("--min-change", policy.min_change), ("--calibrated-floor", policy.calibrated_floor)):
        if not 0 <= value < 10:
            raise VeracityError(f"{flag} {value} is out of range; give a fraction such as 0.05")
    return policy


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise VeracityError(f"unknown report format {fmt!r}; give one of {', '.join(FORMATS)}")


def machine_to_run(config: AsvConfig, machine: str | None) -> str:
    """The asv machine a command that runs benchmarks records under: the one given, or this host's
    fingerprint name, registered as `veracity bench` registers it.

    Left to asv, a run records under the host name whenever ~/.asv-machine.json holds more than
    one machine, so `make calibrate` after `make bench` wrote its bands, and `continuous` its
    results, under another machine than the history they are meant for (and calibrate then
    failed, after its first run, on results for two machines).
    """
    if machine:
        return machine
    from veracity.tracking.machine import current

    return register_machine(config, current(), quiet=True)


def regressions_report(
    config: AsvConfig,
    *,
    machine: str | None = None,
    branch: str | None = None,
    files: TrackingFiles = TrackingFiles(),
    policy: Policy = Policy(),  # noqa: B008
    window: int = 5,
    fmt: str = "text",
) -> Report:
    """Open regressions of the latest commit; exit 1 when one is not accepted by triage."""
    from veracity.tracking.history import open_regressions
    from veracity.tracking.report import regressions_to_json, regressions_to_markdown, regressions_to_text
    from veracity.tracking.results import ResultsStore
    from veracity.tracking.triage_review import review_triage

    _check_format(fmt)
    if window < 1:
        raise VeracityError("--window must be at least 1")
    if branch and rev_parse(config.repo, branch) is None:
        # Refused here: its history would silently fall back to commit dates.
        raise VeracityError(f"unknown branch {branch!r} in {config.repo}; give a branch, tag or commit git knows")
    store = ResultsStore(config.results_dir)
    chosen = store.pick_machine(machine)
    history = {
        "repo": config.repo,
        "branch": branch or config.branches[0],
        "noise": files.load_noise(config),
        "policy": check_policy(policy),
        "window": window,
    }
    triage = files.load_triage(config)
    found = open_regressions(store, chosen, triage=triage, **history)
    reviewed = review_triage(store, chosen, triage, found, **history)
    render = {"json": regressions_to_json, "markdown": regressions_to_markdown}.get(fmt, regressions_to_text)
    return Report(render(found, reviewed), EXIT_WORSE if any(r.fails_ci for r in found) else EXIT_OK)


def accepted_changes(config: AsvConfig, outcome: CompareOutcome, triage: Triage) -> dict[str, Acceptance]:
    """Row key -> the triage entry that accepts its regression: one that landed between the two commits
    compared (after `before`, up to `after`), whose accepted level the row does not pass by more than
    its threshold (the accepted level: the entry's `level`, else the row's own `after`)."""
    landed = commits_between(config.repo, outcome.before, outcome.after) or [outcome.after]
    out = {}
    for row in outcome.rows:
        if not row.verdict.is_worse:
            continue
        for entry in triage.candidates(row.key, outcome.machine):
            if not entry.commits_in(landed):
                continue
            if (
                entry.level is not None
                and row.after is not None
                and past_by_more_than(
                    entry.level,
                    row.after,
                    higher_is_better=row.higher_is_better,
                    threshold=row.threshold,
                    unit=plain_unit(row.unit),
                )
            ):
                continue
            out[row.key] = entry
            break
    return out


def comparison_report(
    config: AsvConfig, outcome: CompareOutcome, triage: Triage, *, fmt: str = "text", only_changed: bool = False
) -> Report:
    """A judged comparison as a report; exit 1 when a benchmark got worse (or broke) and triage does not accept it."""
    from veracity.tracking.report import comparison_to_json, comparison_to_markdown, comparison_to_text

    accepted = set(accepted_changes(config, outcome, triage))
    if fmt == "json":
        text = comparison_to_json(outcome.rows, outcome.before, outcome.after, drift=outcome.drift)
    elif fmt == "markdown":
        text = comparison_to_markdown(
            outcome.rows, outcome.before, outcome.after, accepted=accepted, drift=outcome.drift
        )
    else:
        text = comparison_to_text(
            outcome.rows,
            outcome.before,
            outcome.after,
            only_changed=only_changed,
            accepted=accepted,
            drift=outcome.drift,
        )
    failing = [r for r in outcome.rows if r.verdict.is_worse and r.key not in accepted]
    broken = sum(r.verdict is Verdict.BROKEN for r in outcome.rows)
    summary = "PERFORMANCE DECREASED." if failing else "NO REGRESSION BEYOND NOISE."
    if broken:
        summary += f" {broken} BENCHMARK(S) STILL BROKEN (failing on both commits)."
    failing.sort(key=lambda r: -abs(math.log(r.ratio)) if r.ratio and r.ratio > 0 else 0.0)
    suspects = tuple((r.key, outcome.before, outcome.after) for r in failing if r.verdict is Verdict.WORSE)
    return Report(text, EXIT_WORSE if failing else EXIT_OK, summary, suspects)


@dataclass(frozen=True)
class Judging:
    """How two commits are judged: the files, thresholds, re-runs of grey results, report format."""

    machine: str | None = None
    files: TrackingFiles = TrackingFiles()
    policy: Policy = Policy()  # noqa: RUF009
    rerun: int = 2
    quiet_asv: bool = False
    fmt: str = "text"
    only_changed: bool = False

    def __post_init__(self) -> None:
        if self.rerun < 0:
            raise VeracityError("--rerun must be 0 or more")
        _check_format(self.fmt)


def compare_report(
    config: AsvConfig,
    base: str,
    head: str,
    judging: Judging = Judging(),
    *,
    paired: bool = False,
    bench: Sequence[str] = (),
    rounds: int = 0,
) -> Report:
    """Judge `head` against `base` from results already stored, re-running grey benchmarks.

    `paired`: both were measured in one asv run (continuous); `bench`: the patterns the run was
    limited to, so only their results are judged; `rounds` (2 or more): each re-run is that many
    interleaved rounds of both commits, judged with their own noise (workflow.compare_commits).
    """
    if rounds < 0:
        raise VeracityError("--rounds must be 0 or more")
    outcome = compare_commits(
        config,
        base,
        head,
        machine=judging.machine,
        noise=judging.files.load_noise(config),
        policy=check_policy(judging.policy),
        rerun=judging.rerun,
        quiet_asv=judging.quiet_asv,
        paired=paired,
        bench=bench,
        rounds=rounds,
    )
    triage = judging.files.load_triage(config)
    return comparison_report(config, outcome, triage, fmt=judging.fmt, only_changed=judging.only_changed)


def continuous_report(
    config: AsvConfig,
    base: str | None,
    head: str,
    judging: Judging = Judging(),
    run: RunOptions = RunOptions(),  # noqa: B008
    *,
    rounds: int = DEFAULT_ROUNDS,
) -> Report:
    """Measure `base` (default: the parent of `head`) and `head` side by side, then judge them paired.

    With `rounds` of 2 or more, the two commits are measured in that many interleaved rounds, one
    asv run a round, and each benchmark is judged on its rounds with the run's own noise
    (tracking.continuous); with 1, in one asv run with the suite's own rounds, judged against the
    calibrated paired bands (or the blanket threshold where there are none). `run` says how asv
    measures (its `bench`, interleaving, launch method); its machine is the one judged, this host's
    fingerprint name when none is given.
    """
    if rounds < 1:
        raise VeracityError("--rounds must be 1 or more")
    if config.uses_existing_env:
        raise AsvRunError(
            f"{config.path} uses an existing environment, which cannot check out two commits; "
            "use a virtualenv environment or `veracity compare` on results you ran"
        )
    head_hash = rev_parse(config.repo, head)
    if head_hash is None:
        raise VeracityError(f"unknown commit {head!r}; give a branch, tag or hash")
    base_name = base or f"{head_hash}^"
    base_hash = rev_parse(config.repo, base_name)
    if base_hash is None:
        raise VeracityError(f"unknown commit {base_name!r}; give a branch, tag or hash")
    if base_hash == head_hash:
        raise VeracityError(f"{base_name!r} and {head!r} are one commit: the range is empty; give two commits")
    check_bench_patterns(run.bench, config.results_dir / "benchmarks.json", config.benchmark_dir)
    machine = machine_to_run(config, run.machine or judging.machine)
    if rounds == 1:
        run_benchmarks(config, [head_hash, base_hash], replace(run, machine=machine), quiet=judging.quiet_asv)
        return compare_report(
            config, base_hash, head_hash, replace(judging, machine=machine), paired=True, bench=run.bench
        )
    outcome = compare_in_rounds(
        config,
        base_hash,
        head_hash,
        replace(run, machine=machine),
        rounds=rounds,
        noise=judging.files.load_noise(config),
        policy=check_policy(judging.policy),
        rerun=judging.rerun,
        quiet_asv=judging.quiet_asv,
    )
    triage = judging.files.load_triage(config)
    return comparison_report(config, outcome, triage, fmt=judging.fmt, only_changed=judging.only_changed)


def calibrate_report(
    config: AsvConfig,
    *,
    commit: str = "HEAD",
    runs: int = 5,
    bench: Sequence[str] = (),
    machine: str | None = None,
    noise_file: Path | None = None,
    quiet_asv: bool = False,
    keep_results: bool = False,
    paired: bool = True,
) -> Report:
    """A/A runs of `commit` (each beside a twin of it when `paired`); the bands go into the noise file."""
    from veracity.tracking.workflow import calibrate

    check_bench_patterns(bench, config.results_dir / "benchmarks.json", config.benchmark_dir)
    result = calibrate(
        config,
        commit=commit,
        runs=runs,
        bench=bench,
        machine=machine_to_run(config, machine),
        noise_path=noise_file,
        quiet_asv=quiet_asv,
        keep_results=keep_results,
        paired=paired,
    )
    path = noise_file or config.noise_file
    lines = [
        f"calibrated {len(result.bands)} benchmark(s) on machine {result.machine} at {result.commit[:8]} -> {path}"
    ]
    for band in result.bands:
        beside = f"  paired ±{band.paired * 100:4.1f}% ({band.pairs} pairs)" if band.paired is not None else ""
        lines.append(f"  ±{band.band * 100:5.1f}%  (cv {band.cv * 100:.1f}%, {band.runs} runs){beside}  {band.key}")
    for band in result.too_noisy:
        lines.append(
            f"  not saved (any older band removed): ±{band.band * 100:.0f}% (cv {band.cv * 100:.1f}%) "
            f"is too wide to judge by: {band.key}"
        )
    return Report("\n".join(lines), EXIT_OK)


def targets_report(
    config: AsvConfig,
    *,
    machine: str | None = None,
    targets_file: Path | None = None,
    fmt: str = "text",
    check: bool = False,
) -> Report:
    """The product targets on the latest commit; with `check`, exit 1 when one is missed."""
    from veracity.tracking.history import ordered_commits
    from veracity.tracking.report import targets_to_markdown, targets_to_text
    from veracity.tracking.results import ResultsStore, benchmark_keys
    from veracity.tracking.targets import Status, evaluate_target, load_targets, unresolved

    _check_format(fmt)
    targets = load_targets(targets_file or config.targets_file)
    store = ResultsStore(config.results_dir)
    machine = store.pick_machine(machine)
    commits = ordered_commits(store, machine, config.repo, config.branches[0])
    latest = commits[-1] if commits else None
    results = store.results_for(machine, latest) if latest else []
    keys = benchmark_keys(store.benchmarks())
    if check and (missing := unresolved(targets, keys)):
        names = "; ".join(f"{t.title!r} ({t.benchmark})" for t in missing)
        raise VeracityError(
            f"{len(missing)} target(s) match no benchmark of the suite, so they could never fail: {names}; "
            f"fix {targets_file or config.targets_file}"
        )
    statuses = [evaluate_target(t, results, keys) for t in targets]
    if fmt == "json":
        data = {"commit": latest, "machine": machine, "targets": [s.to_json() for s in statuses]}
        text = json.dumps(data, indent=2)
    elif fmt == "markdown":
        text = targets_to_markdown(statuses, latest)
    else:
        text = targets_to_text(statuses, latest)
    missed = check and any(s.status is Status.MISSED for s in statuses)
    return Report(text, EXIT_WORSE if missed else EXIT_OK)
