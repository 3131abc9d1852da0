"""Queries per second at a recall, read off the recall/QPS frontier of a parameter sweep (ann-benchmarks)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SweepPoint:
    """One index configuration's measured recall and speed; `params` names it (m, ef_search, ...)."""

    recall: float
    qps: float
    params: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AtRecall:
    """QPS at a target recall and the configuration that reached it (NaN and None: never reached)."""

    target: float
    qps: float
    reached_by: SweepPoint | None


def pareto_frontier(points: Sequence[SweepPoint]) -> list[SweepPoint]:
    """The points no other beats on both recall and QPS, by recall ascending (QPS then descends)."""
    best: list[SweepPoint] = []
    for point in sorted(points, key=lambda p: (-p.recall, -p.qps)):
        if not best or point.qps > best[-1].qps:
            best.append(point)
    return best[::-1]


def qps_at_recall(points: Sequence[SweepPoint], target: float) -> AtRecall:
    """The QPS at which the frontier reaches `target` recall.

    Between the frontier's last point under the target and its first at or over it, log(QPS) is
    taken as linear in recall; where the fastest frontier point already reaches the target, its own
    QPS (a sweep cannot say how fast a configuration it did not run would be). `reached_by` is the
    first frontier point at or over the target.
    """
    frontier = pareto_frontier(points)
    for i, point in enumerate(frontier):
        if point.recall >= target:
            if i == 0:
                return AtRecall(target, point.qps, point)
            low = frontier[i - 1]
            share = (target - low.recall) / (point.recall - low.recall)
            qps = math.exp(math.log(low.qps) + share * (math.log(point.qps) - math.log(low.qps)))
            return AtRecall(target, qps, point)
    return AtRecall(target, math.nan, None)
