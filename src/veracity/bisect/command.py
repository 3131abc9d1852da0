"""`veracity bisect GOOD BAD -b PATTERN`: the first commit at which a benchmark got worse.

asv's own `asv find` bisects on single runs, so on a noisy machine one slow sample sends it down the
wrong half. Here every probe is judged as `veracity continuous` judges a pull request (bisect.probe),
stored results are used when they settle a probe, and a commit that cannot be judged is skipped.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from veracity.bisect.probe import ProbeSettings, narrowed, probe_commits
from veracity.bisect.search import ProbeResult, Search, Step, bisect
from veracity.errors import VeracityError
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import check_bench_patterns
from veracity.tracking.commands import EXIT_OK, EXIT_WORSE, Report, TrackingFiles, check_policy, machine_to_run
from veracity.tracking.continuous import DEFAULT_ROUNDS
from veracity.tracking.detect import Comparison, Policy
from veracity.tracking.gitrepo import commit_subject, first_parent_between, is_ancestor, rev_parse
from veracity.tracking.report import short_commit

EXIT_SUSPECTS = 3  # skips left several commits that may each be the first bad one

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class BisectRequest:
    good: str
    bad: str
    bench: tuple[str, ...]
    machine: str | None = None
    files: TrackingFiles = TrackingFiles()  # noqa: RUF009
    policy: Policy = Policy()  # noqa: RUF009
    rerun: int = 2
    rounds: int = DEFAULT_ROUNDS
    fmt: str = "text"
    quiet_asv: bool = True


def _resolve(config: AsvConfig, name: str) -> str:
    full = rev_parse(config.repo, name)
    if full is None:
        raise VeracityError(f"unknown commit {name!r}; give a branch, tag or hash")
    return full


def range_commits(config: AsvConfig, good: str, bad: str) -> list[str]:
    """GOOD, then the first-parent commits after it up to BAD, oldest first."""
    g, b = _resolve(config, good), _resolve(config, bad)
    if g == b:
        raise VeracityError(f"{good!r} and {bad!r} are one commit: nothing to bisect; give GOOD older than BAD")
    if not is_ancestor(config.repo, g, b):
        raise VeracityError(f"{good!r} is not an ancestor of {bad!r}; give GOOD first, then BAD")
    later = first_parent_between(config.repo, g, b)
    if not later or later[-1] != b:
        raise VeracityError(f"{bad!r} is not on the first-parent line from {good!r}; give commits of one branch")
    return [g, *later]


def measured_kind(rows: Sequence[Comparison]) -> str:
    """What the bisected figures are, in words: work counts or times (or another unit)."""
    units = sorted({r.unit.split(" (")[0].split(" [")[0] for r in rows})
    if units and all(u == "instructions" for u in units):
        return "work (instruction counts, deterministic)"
    if units and all(u == "seconds" for u in units):
        return "time (wall-clock seconds)"
    return ", ".join(units) or "unknown (no result)"


def _expected_probes(n_candidates: int) -> int:
    return 1 + max(0, math.ceil(math.log2(max(n_candidates, 1))))


def run_bisect(config: AsvConfig, request: BisectRequest, log: Log = _stderr) -> tuple[Search, str, list[str]]:
    """Bisect, logging each probe; returns the search, what was measured, and the benchmarks bisected."""
    if request.rounds < 2:
        raise VeracityError("--rounds must be 2 or more: a probe is judged on its rounds' spread")
    if not request.bench:
        raise VeracityError("give the benchmark to bisect with -b PATTERN (a regex, as asv --bench)")
    commits = range_commits(config, request.good, request.bad)
    check_bench_patterns(request.bench, config.results_dir / "benchmarks.json", config.benchmark_dir)
    settings = ProbeSettings(
        config=config,
        machine=machine_to_run(config, request.machine),
        bench=request.bench,
        noise=request.files.load_noise(config),
        policy=check_policy(request.policy),
        rerun=request.rerun,
        rounds=request.rounds,
        quiet_asv=request.quiet_asv,
    )
    counter = _ProbeCounter(started=time.monotonic(), expected=_expected_probes(len(commits) - 1), log=log)
    first_probe = _Probe(settings, counter)
    first = first_probe(commits[0], commits[-1])
    rows = first_probe.rows
    kind = measured_kind(rows)
    bisected = [r.key for r in rows if r.verdict.is_worse] or [r.key for r in rows]
    if first.step is not Step.WORSE:
        return bisect(commits, first_probe, bad_probe=first), kind, bisected
    search = bisect(commits, _Probe(narrowed(settings, rows), counter), bad_probe=first)
    return search, kind, bisected


@dataclass
class _ProbeCounter:
    """Progress shared by every probe of one bisect: commit k of about log2(n), time so far."""

    started: float
    expected: int
    log: Callable[[str], None]
    count: int = 0


class _Probe:
    """One probe setting (all selected benchmarks, or those the first probe found worse); keeps the
    judged rows of its last probe, from which the bisect learns what it measured and narrows."""

    def __init__(self, settings: ProbeSettings, counter: _ProbeCounter) -> None:
        self.settings, self.counter = settings, counter
        self.rows: list[Comparison] = []

    def __call__(self, good: str, candidate: str) -> ProbeResult:
        c = self.counter
        c.count += 1
        c.log(
            f"bisect: probe {c.count} of about {c.expected}: {short_commit(candidate)} against the good end "
            f"{short_commit(good)} ({_duration(time.monotonic() - c.started)} so far)"
        )
        result, self.rows = probe_commits(self.settings, good, candidate, c.log)
        c.log(f"bisect:   {result.step.value}: {result.detail}")
        return result


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def _culprit_probe(search: Search) -> ProbeResult | None:
    """The probe that found the first bad commit worse (its ratio is the one across it)."""
    found = [p for p in search.probes if p.candidate == search.first_bad and p.step is Step.WORSE]
    return found[-1] if found else None


def exit_code(search: Search) -> int:
    if search.first_bad:
        return EXIT_OK
    return EXIT_SUSPECTS if search.suspects else EXIT_WORSE


def _as_json(config: AsvConfig, search: Search, kind: str, bisected: Sequence[str]) -> str:
    culprit = _culprit_probe(search)
    payload = {
        "good": search.commits[0],
        "bad": search.commits[-1],
        "commits": len(search.commits) - 1,
        "measured": kind,
        "benchmarks": list(bisected),
        "first_bad": None
        if search.first_bad is None
        else {
            "commit": search.first_bad,
            "subject": commit_subject(config.repo, search.first_bad),
            "against": culprit.good if culprit else None,
            "ratio": culprit.ratio if culprit else None,
            "noise_source": culprit.noise_source if culprit else "",
        },
        "suspects": [] if search.first_bad else list(search.suspects),
        "last_good": search.last_good,
        "probes": [
            {
                "good": p.good,
                "candidate": p.candidate,
                "step": p.step.value,
                "detail": p.detail,
                "ratio": p.ratio,
                "noise_source": p.noise_source,
                "seconds": round(p.seconds, 1),
            }
            for p in search.probes
        ],
        "seconds": round(sum(p.seconds for p in search.probes), 1),
        "exit_code": exit_code(search),
    }
    return json.dumps(payload, indent=2)


def _headline(config: AsvConfig, search: Search) -> list[str]:
    culprit = _culprit_probe(search)
    if search.first_bad:
        subject = commit_subject(config.repo, search.first_bad)
        lines = [f"first bad commit: {search.first_bad} {subject}"]
        if culprit and culprit.ratio is not None:
            lines.append(
                f"  ratio {culprit.ratio:.3f} against {short_commit(culprit.good)}"
                + (f"; noise: {culprit.noise_source}" if culprit.noise_source else "")
            )
        return lines
    if search.suspects:
        return [
            "skipped commits leave several suspects; the first bad commit is one of:",
            *(f"  {c} {commit_subject(config.repo, c)}" for c in search.suspects),
        ]
    return [f"no commit in {short_commit(search.commits[0])}..{short_commit(search.commits[-1])} is worse"]


def _probe_lines(search: Search) -> list[str]:
    return [
        f"  {i}. {short_commit(p.candidate)} against {short_commit(p.good)}: {p.step.value} "
        f"[{_duration(p.seconds)}] {p.detail}"
        for i, p in enumerate(search.probes, 1)
    ]


def render(config: AsvConfig, search: Search, kind: str, bisected: Sequence[str], fmt: str) -> str:
    if fmt == "json":
        return _as_json(config, search, kind, bisected)
    total = _duration(sum(p.seconds for p in search.probes))
    span = f"{short_commit(search.commits[0])}..{short_commit(search.commits[-1])}"
    if fmt == "markdown":
        body = "\n".join(f"> {line}" if i else f"**{line}**" for i, line in enumerate(_headline(config, search)))
        probes = "\n".join(
            f"| {i} | `{short_commit(p.candidate)}` | `{short_commit(p.good)}` | {p.step.value} | {p.detail} |"
            for i, p in enumerate(search.probes, 1)
        )
        return (
            f"### veracity bisect {span}\n\n{body}\n\nMeasured: {kind}; benchmarks: "
            + ", ".join(f"`{b}`" for b in bisected)
            + f"\n\n| probe | commit | against | step | detail |\n|---|---|---|---|---|\n{probes}\n\n"
            f"{len(search.probes)} probes in {total}.\n"
        )
    lines = [
        f"veracity bisect {span}: {len(search.commits) - 1} commits (first parent)",
        f"measured: {kind}; benchmarks: {', '.join(bisected)}",
        *_headline(config, search),
        f"probes ({len(search.probes)}, {total}):",
        *_probe_lines(search),
    ]
    return "\n".join(lines)


def bisect_report(config: AsvConfig, request: BisectRequest, log: Log = _stderr) -> Report:
    search, kind, bisected = run_bisect(config, request, log)
    return Report(render(config, search, kind, bisected, request.fmt), exit_code(search))
