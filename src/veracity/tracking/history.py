"""Open regressions: the latest commit of a machine judged against the commits before it."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from veracity.tracking.detect import (
    UNIT_FLOORS,
    Comparison,
    Judgement,
    Observation,
    Policy,
    Verdict,
    blanket_source,
    judge,
    ratio_undefined,
)
from veracity.tracking.direction import is_yardstick
from veracity.tracking.drift import MachineDrift, drift_behind, machine_drift
from veracity.tracking.gitrepo import first_parent_history
from veracity.tracking.noise import (
    HISTORY_LOOKBACK,
    MIN_HISTORY,
    NoiseFigure,
    NoiseFile,
    history_figure,
    prior_contradiction,
)
from veracity.tracking.results import BenchmarkInfo, BenchmarkResult, ResultsStore
from veracity.tracking.triage import Acceptance, Triage
from veracity.tracking.work_vs_time import WorkCheck, check_work

DEFAULT_WINDOW = 5


@dataclass(frozen=True)
class Regression(Comparison):
    """A benchmark that is worse on the latest commit than before, and since which commits.

    The comparison's `before` is the pooled level of up to `window` commits before the first bad
    one, `after` that of the first bad commit through the latest.
    """

    machine: str
    good_commit: str | None
    first_bad_commit: str
    latest_commit: str
    accepted: Acceptance | None = None
    machine_drift: MachineDrift | None = None  # a yardstick moved the same way over the same commits
    work: WorkCheck | None = None  # how the same stage's instruction count moved over the same commits

    @property
    def fails_ci(self) -> bool:
        """Worse or newly failing, and not accepted; a benchmark broken on every commit is shown, not failed."""
        return self.accepted is None and self.verdict.is_worse


Points = list[tuple[str, list[BenchmarkResult]]]
Judge = Callable[[Observation, Observation], Judgement]


def judge_with(info: BenchmarkInfo, band: float | None, policy: Policy) -> Judge:
    """How the history judges one benchmark: its direction, its unit's floor at zero, this band and policy."""
    return functools.partial(
        judge, higher_is_better=info.higher_is_better, band=band, policy=policy, unit=info.plain_unit
    )


@dataclass(frozen=True)
class _Judged:
    """One benchmark's current level judged: where it starts, both sides, the judgement, its band and source."""

    start: int
    before: Observation
    after: Observation
    judgement: Judgement
    band: float | None
    source: str


def _level(points: Points, start: int) -> Observation:
    return Observation.pooled([r for _, rs in points[start:] for r in rs])


def _window(points: Points, start: int, window: int) -> Observation:
    return Observation.pooled([r for _, rs in points[max(0, start - window) : start] for r in rs])


def _level_start(points: Points, judged: Judge) -> int:
    """The first commit of the current level: the latest commit and every commit before it at its level."""
    start = len(points) - 1
    while start >= 1:
        verdict = judged(Observation.pooled(points[start - 1][1]), _level(points, start)).verdict
        if verdict not in (Verdict.UNCHANGED, Verdict.INCOMPARABLE, Verdict.BROKEN):
            break
        start -= 1
    return start


def _history_values(points: Points, upto: int, window: int) -> list[float]:
    """This machine's values before `points[upto]`: its last max(window, HISTORY_LOOKBACK) commits."""
    span = points[max(0, upto - max(window, HISTORY_LOOKBACK)) : upto]
    return [v for _, rs in span if (v := Observation.pooled(rs).value) is not None]


def history_noise(points: Points, upto: int, window: int) -> NoiseFigure | None:
    """The band from this machine's history before `points[upto]` (see `_history_values`)."""
    return history_figure(_history_values(points, upto, window))


def not_enough_history_source(commits: int, why: str = "") -> str:
    reason = f" ({why})" if why else ""
    return f"not enough history yet: {commits} commit(s) before it on this machine, need {MIN_HISTORY}{reason}"


def _judge_series(
    points: Points, info: BenchmarkInfo, figure: NoiseFigure | None, policy: Policy, window: int
) -> _Judged | None:
    """The current level of one benchmark judged against the commits before it; None when it is no regression.

    Its noise figure, the first that exists:
    1. a band calibrated on this machine (`make calibrate`): A/A runs of one commit hold nothing but
       noise, and it is the figure `veracity continuous` and the asv hooks judge with, so they agree;
    2. a band from this machine's own history, estimated from the commits before the change (at least
       MIN_HISTORY; see noise.history_figure), as conbench's lookback z-score and Bencher's thresholds do;
    3. the prior of its hardware class: a band calibrated on another machine of the same class, widened
       for the few runs it came from (noise.prior_figure), unless the commits this machine has already
       measured spread wider than it (noise.prior_contradiction);
    4. none: NOT_ENOUGH_HISTORY, neither flagged nor passed. A failure, or a change from or to zero
       (judged by its difference against the unit's floor, whatever the noise), is judged all the same,
       and so is a work count (instructions: it repeats within 0.1%, so its 1% floor is a band already).
    The level is found with the band of the commits before the latest one (robust to a step among them);
    the change is judged with the band of the commits before the level, so it cannot widen its own band.
    """
    here = figure if figure is not None and figure.calibrated_here else None
    prior = None if here else figure
    recent = _history_values(points, len(points) - 1, window)
    contradiction = prior_contradiction(recent, prior) if prior is not None else ""
    if contradiction:
        prior = None
    provisional = here or history_figure(recent) or prior
    start = _level_start(points, judge_with(info, provisional.band if provisional else None, policy))
    after = _level(points, start)
    if start == 0 and after.value is None:  # failed on every commit measured: nothing to compare with
        return _Judged(0, Observation(None), after, Judgement(Verdict.BROKEN, None, None, policy.min_change), None, "")
    if start == 0 and provisional is not None:
        return None  # one level over the whole history, within a known band
    final = here or history_noise(points, start, window) or prior
    if final is not None:
        judgement = judge_with(info, final.band, policy)(_window(points, start, window), after)
        if not judgement.verdict.is_worse:
            return None
        return _Judged(start, _window(points, start, window), after, judgement, final.band, final.source)
    # No noise figure. Shown against the commits before the level (before the latest one, at one level).
    if start == 0:
        start, after = len(points) - 1, Observation.pooled(points[-1][1])
    before = _window(points, start, window)
    judgement = judge_with(info, None, policy)(before, after)
    if judgement.verdict is Verdict.FAILED:
        source = "no noise figure needed: it failed"
    elif _finite(before.value) and _finite(after.value) and ratio_undefined(before.value, after.value):
        source = "no noise figure needed: a side at zero, judged by its difference against the unit's floor"
    elif info.plain_unit in UNIT_FLOORS:  # a work count repeats within 0.1% A/A: its floor is its band
        source = blanket_source(policy, info.plain_unit)
    else:
        neh = Judgement(Verdict.NOT_ENOUGH_HISTORY, judgement.ratio, None, judgement.threshold)
        return _Judged(start, before, after, neh, None, not_enough_history_source(start, contradiction))
    return _Judged(start, before, after, judgement, None, source) if judgement.verdict.is_worse else None


def _finite(x: float | None) -> bool:
    return x is not None and math.isfinite(x)


def accepted_level(entry: Acceptance, points: Points, ordered: Sequence[str]) -> Observation | None:
    """The level an entry accepted: its `level`, else what was measured at its (last) commit; None when
    its commit is not among `ordered`."""
    landed = entry.commits_in(ordered)
    if not landed:
        return None
    if entry.level is not None:
        return Observation(entry.level)
    return Observation.pooled(points[landed[-1]][1])


def _accepts(
    entry: Acceptance,
    points: Points,
    ordered: Sequence[str],
    start: int,
    after: Observation,
    judged: Judge,
) -> bool:
    """Whether `entry` accepts the regression whose level starts at `points[start]`: it landed in that
    level, and the level now is not past the accepted one by more than the noise."""
    if not any(i >= start for i in entry.commits_in(ordered)):
        return False  # landed before the current level: this regression is another one
    level = accepted_level(entry, points, ordered)
    return level is not None and not judged(level, after).verdict.is_worse


def ordered_commits(store: ResultsStore, machine: str, repo: Path | None, branch: str | None) -> list[str]:
    """Commits with results on `machine`, oldest first: along the branch's first-parent history when
    git can tell, else by commit date. Results of commits off the branch (pull requests) are left out.
    """
    dated = store.commits(machine)
    history = first_parent_history(repo, branch) if repo is not None and branch else None
    if history:
        on_branch = [c for c in history if c in dated]
        if on_branch:
            return on_branch
    return sorted(dated, key=lambda c: (dated[c] or 0, c))


def benchmark_series(
    store: ResultsStore, machine: str, commits: Sequence[str]
) -> dict[tuple[str, str], list[tuple[str, list[BenchmarkResult]]]]:
    series: dict[tuple[str, str], list[tuple[str, list[BenchmarkResult]]]] = {}
    for commit in commits:
        grouped: dict[tuple[str, str], list[BenchmarkResult]] = {}
        for r in store.results_for(machine, commit):
            grouped.setdefault((r.env_name, r.key), []).append(r)
        for k, rs in grouped.items():
            series.setdefault(k, []).append((commit, rs))
    return series


def open_regressions(
    store: ResultsStore,
    machine: str,
    *,
    repo: Path | None = None,
    branch: str | None = None,
    noise: NoiseFile | None = None,
    triage: Triage | None = None,
    policy: Policy = Policy(),  # noqa: B008
    window: int = DEFAULT_WINDOW,
) -> list[Regression]:
    """Every benchmark whose current level is worse than the `window` commits before that level.

    The current level is the latest commit and the commits before it whose results are within the
    band of it (pooled). The first commit of that level is the first bad one; the commit before it
    the last good one. A regression stays open however long ago it began, until fixed or accepted.

    Machine yardsticks and descriptive figures are not listed (no commit can regress them); where a
    yardstick moved the same way between the same commits, the regression carries that
    `machine_drift` (see tracking.drift). A benchmark that failed on every commit measured is listed
    as BROKEN: shown, not failing CI (there is no base at which it ran). A triage entry accepts a
    regression only when it landed in the current level and the level is not past the accepted one.
    """
    commits = ordered_commits(store, machine, repo, branch)
    if not commits:
        return []
    latest = commits[-1]
    drifts: dict[tuple[tuple[str, ...], tuple[str, ...]], list[MachineDrift]] = {}

    def drift_between(ref: tuple[str, ...], level: tuple[str, ...]) -> list[MachineDrift]:
        if (ref, level) not in drifts:
            drifts[ref, level] = machine_drift(
                [r for c in ref for r in store.results_for(machine, c)],
                [r for c in level for r in store.results_for(machine, c)],
                benchmarks=store.benchmarks(),
                noise=noise,
                machine=machine,
            )
        return drifts[ref, level]

    out: list[Regression] = []
    for (_, key), points in sorted(benchmark_series(store, machine, commits).items()):
        if points[-1][0] != latest:
            continue
        info = store.info(points[-1][1][0].benchmark)
        if is_yardstick(info.unit) or info.descriptive:
            continue  # the machine, or a figure with no better side: never a regression
        version = points[-1][1][0].version
        points = [(c, rs) for c, rs in points if all(r.version == version for r in rs)]
        found = _judge_series(points, info, noise.noise_for(machine, key) if noise else None, policy, window)
        if found is None:
            continue
        start, before, after, judgement = found.start, found.before, found.after, found.judgement
        ref_points = points[max(0, start - window) : start]
        accepted = None
        if triage is not None and judgement.verdict.is_worse:
            ordered = [c for c, _ in points]
            judged = judge_with(info, found.band, policy)
            accepted = next(
                (e for e in triage.candidates(key, machine) if _accepts(e, points, ordered, start, after, judged)),
                None,
            )
        out.append(
            Regression.judged(
                points[-1][1][0],
                info,
                before,
                after,
                judgement,
                machine=machine,
                good_commit=points[start - 1][0] if start else None,
                first_bad_commit=points[start][0],
                latest_commit=latest,
                accepted=accepted,
                noise_source=found.source,
                machine_drift=drift_behind(
                    info.unit,
                    judgement.verdict,
                    drift_between(tuple(c for c, _ in ref_points), tuple(c for c, _ in points[start:])),
                ),
                work=check_work(
                    key,
                    info.unit,
                    [r for c, _ in ref_points for r in store.results_for(machine, c)],
                    [r for c, _ in points[start:] for r in store.results_for(machine, c)],
                )
                if judgement.verdict.is_worse
                else None,
            )
        )
    return out
