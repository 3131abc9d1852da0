"""Open regressions: the latest commit of a machine judged against the commits before it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from veracity.tracking.detect import Comparison, Observation, Policy, Verdict, judge
from veracity.tracking.direction import is_yardstick
from veracity.tracking.drift import MachineDrift, drift_behind, machine_drift
from veracity.tracking.gitrepo import first_parent_history
from veracity.tracking.noise import NoiseFile
from veracity.tracking.results import BenchmarkResult, ResultsStore
from veracity.tracking.triage import Acceptance, Triage

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

    @property
    def fails_ci(self) -> bool:
        return self.accepted is None


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


def _series(
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

    Machine yardsticks are not listed (no commit can regress them); where one moved the same way
    between the same commits, the regression carries that `machine_drift` (see tracking.drift).
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
    for (_, key), points in sorted(_series(store, machine, commits).items()):
        if points[-1][0] != latest or len(points) < 2:
            continue
        info = store.info(points[-1][1][0].benchmark)
        if is_yardstick(info.unit):
            continue
        version = points[-1][1][0].version
        points = [(c, rs) for c, rs in points if all(r.version == version for r in rs)]
        if len(points) < 2:
            continue
        band = noise.band_for(machine, key) if noise else None

        def same_level(earlier: Observation, level: Observation, info=info, band=band) -> bool:
            verdict = judge(earlier, level, higher_is_better=info.higher_is_better, band=band, policy=policy).verdict
            return verdict in (Verdict.UNCHANGED, Verdict.INCOMPARABLE)

        # The current level: the latest commit and every commit before it at the same level.
        start = len(points) - 1
        while start >= 1:
            level = Observation.pooled([r for _, rs in points[start:] for r in rs])
            if not same_level(Observation.pooled(points[start - 1][1]), level):
                break
            start -= 1
        if start == 0:
            continue  # one level over the whole history: nothing to compare with
        ref_points = points[max(0, start - window) : start]
        ref = [r for _, rs in ref_points for r in rs]
        before = Observation.pooled(ref)
        after = Observation.pooled([r for _, rs in points[start:] for r in rs])
        judgement = judge(before, after, higher_is_better=info.higher_is_better, band=band, policy=policy)
        if not judgement.verdict.is_worse:
            continue
        out.append(
            Regression.judged(
                points[-1][1][0],
                info,
                before,
                after,
                judgement,
                machine=machine,
                good_commit=points[start - 1][0],
                first_bad_commit=points[start][0],
                latest_commit=latest,
                accepted=triage.lookup(key, machine) if triage else None,
                machine_drift=drift_behind(
                    info.unit,
                    judgement.verdict,
                    drift_between(tuple(c for c, _ in ref_points), tuple(c for c, _ in points[start:])),
                ),
            )
        )
    return out
