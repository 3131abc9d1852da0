"""QPS at a recall from a sweep: the Pareto frontier and log-linear interpolation, on hand-worked grids."""

from __future__ import annotations

import math

import pytest

from veracity.bench.frontier import SweepPoint, pareto_frontier, qps_at_recall

# ef_search 10 / 20 / 40 / 80 of one index, and a dominated point of another build.
GRID = [
    SweepPoint(0.90, 4000.0, {"ef_search": 10}),
    SweepPoint(0.94, 3000.0, {"ef_search": 20}),
    SweepPoint(0.98, 1500.0, {"ef_search": 40}),
    SweepPoint(0.995, 800.0, {"ef_search": 80}),
    SweepPoint(0.93, 2000.0, {"ef_search": 99}),  # slower and less accurate than ef_search 20
]


def test_the_frontier_drops_dominated_points() -> None:
    assert [p.params["ef_search"] for p in pareto_frontier(GRID)] == [10, 20, 40, 80]


def test_qps_at_recall_interpolates_log_linearly_between_the_bracketing_points() -> None:
    # 0.95 lies a quarter of the way from 0.94 (3000/s) to 0.98 (1500/s): 3000 x 0.5 ** 0.25.
    at = qps_at_recall(GRID, 0.95)
    assert at.qps == pytest.approx(3000 * 0.5**0.25)
    assert at.reached_by.params == {"ef_search": 40}


def test_a_target_the_fastest_point_reaches_takes_its_qps() -> None:
    assert qps_at_recall(GRID, 0.85).qps == 4000.0


def test_a_target_no_point_reaches_is_nan() -> None:
    at = qps_at_recall(GRID, 0.999)
    assert math.isnan(at.qps) and at.reached_by is None


def test_lower_recall_everywhere_lowers_qps_at_the_target_even_at_equal_speed() -> None:
    # A worse graph: every ef_search as fast as before but 0.02 less recall.
    worse = [SweepPoint(p.recall - 0.02, p.qps, p.params) for p in GRID]
    assert qps_at_recall(worse, 0.95).qps < 0.8 * qps_at_recall(GRID, 0.95).qps


def test_a_recall_no_longer_reached_is_worse_not_skipped() -> None:
    """The benchmark gives 0 queries/s where no configuration reaches the recall; detection judges the fall
    to 0 by the unit's absolute floor (a ratio cannot be taken), so losing a recall is flagged."""
    from veracity.tracking.detect import Observation, Verdict, judge

    def verdict(before: float, after: float) -> Verdict:
        return judge(
            Observation(before), Observation(after), higher_is_better=True, band=None, unit="queries/s"
        ).verdict

    assert verdict(1119.0, 0.0) is Verdict.WORSE
    assert verdict(0.0, 0.0) is Verdict.UNCHANGED
    assert verdict(0.0, 430.0) is Verdict.BETTER
