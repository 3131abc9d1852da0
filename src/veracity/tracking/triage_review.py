"""Each triage entry on a machine's history: accepting an open regression, in force, stale, not measured here
or expired."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from veracity.tracking.detect import Observation, Policy
from veracity.tracking.history import (
    DEFAULT_WINDOW,
    Points,
    Regression,
    benchmark_series,
    history_noise,
    judge_with,
    ordered_commits,
)
from veracity.tracking.noise import NoiseFile
from veracity.tracking.results import ResultsStore
from veracity.tracking.triage import Acceptance, Triage


class TriageState(enum.StrEnum):
    ACCEPTING = "accepting"  # it accepts an open regression
    IN_FORCE = "in force"  # its regression still stands; a later one past its level is flagged apart
    STALE = "stale"  # its regression no longer exists, or it matches nothing here
    # Its commit is not among those this machine measured (a new machine, or a history that begins after it):
    # it can accept nothing here, and says nothing about whether it is still needed where it was measured.
    NOT_HERE = "not measured here"
    EXPIRED = "expired"  # past its date: the regression counts again


@dataclass(frozen=True)
class TriageReview:
    """What one triage entry does on this machine's history, in words for reports."""

    entry: Acceptance
    state: TriageState
    detail: str

    def to_json(self) -> dict:
        return {
            "benchmark": self.entry.benchmark,
            "commit": self.entry.commit,
            "reason": self.entry.reason,
            "expires": self.entry.expires.isoformat(),
            "state": self.state.value,
            "detail": self.detail,
        }


def review_triage(
    store: ResultsStore,
    machine: str,
    triage: Triage,
    regressions: Sequence[Regression],
    *,
    repo: Path | None = None,
    branch: str | None = None,
    noise: NoiseFile | None = None,
    policy: Policy = Policy(),  # noqa: B008
    window: int = DEFAULT_WINDOW,
    today: dt.date | None = None,
) -> list[TriageReview]:
    """Each entry of `triage` on `machine`: accepting an open regression, in force, stale or expired."""
    today = today or dt.date.today()
    commits = ordered_commits(store, machine, repo, branch)
    series = {key: points for (_, key), points in benchmark_series(store, machine, commits).items()}
    latest_keys = {key for key, points in series.items() if commits and points[-1][0] == commits[-1]}
    accepting = {id(r.accepted) for r in regressions if r.accepted is not None}
    out = []
    for entry in triage.accepted:
        if entry.machine is not None and entry.machine != machine:
            continue
        keys = sorted(k for k in latest_keys if entry.matches(k, machine))
        if entry.expired(today):
            state, detail = TriageState.EXPIRED, f"expired on {entry.expires}: the regression counts again"
        elif id(entry) in accepting:
            state, detail = TriageState.ACCEPTING, "accepts an open regression"
        elif not keys:
            state, detail = TriageState.STALE, "matches no benchmark measured at the latest commit"
        else:
            standing = [k for k in keys if _still_regressed(entry, series[k], store, machine, noise, policy, window)]
            if standing:
                state, detail = TriageState.IN_FORCE, f"its regression still stands ({len(standing)} of {len(keys)})"
            elif not any(entry.commits_in([c for c, _ in series[k]]) for k in keys):
                state, detail = TriageState.NOT_HERE, f"commit {entry.commit} is not in this machine's history"
            else:
                state, detail = TriageState.STALE, "its regression no longer exists: the latest level is back"
        out.append(TriageReview(entry, state, detail))
    return out


def _still_regressed(
    entry: Acceptance,
    points: Points,
    store: ResultsStore,
    machine: str,
    noise: NoiseFile | None,
    policy: Policy,
    window: int,
) -> bool:
    """Whether the latest level is still worse than the level before the entry's commit."""
    ordered = [c for c, _ in points]
    landed = entry.commits_in(ordered)
    if not landed or landed[0] == 0:
        return False
    info = store.info(points[-1][1][0].benchmark)
    before = Observation.pooled([r for _, rs in points[max(0, landed[0] - window) : landed[0]] for r in rs])
    latest = Observation.pooled(points[-1][1])
    figure = noise.noise_for(machine, points[-1][1][0].key) if noise else None
    if figure is None or not figure.calibrated_here:  # as open_regressions: this machine's history before a prior
        figure = history_noise(points, landed[0], window) or figure
    return judge_with(info, figure.band if figure else None, policy)(before, latest).verdict.is_worse
