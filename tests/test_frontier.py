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


def _point_results(commit: str, recalls: dict[str, tuple[float, float]]) -> list:
    from veracity.tracking.results import BenchmarkResult

    rows = []
    for label, (recall, qps) in recalls.items():
        for figure, value in (("recall", recall), ("qps", qps)):
            name = f"vector_frontier.HnswFrontierPoints.track_point_{figure}"
            rows.append(BenchmarkResult(name, ("10000", repr(label)), value, None, commit, "m", "env"))
    return rows


def test_the_frontier_page_draws_both_commits_and_the_lower_recall_build_left_of_its_predecessor() -> None:
    import re

    from veracity.tracking.site_frontier import frontier, frontier_to_html, sweep_points

    before = {
        "m=16 ef_search=10": (0.90, 4000.0),
        "m=16 ef_search=40": (0.98, 1500.0),
        "m=8 ef_search=40": (0.93, 1400.0),
    }
    # A lower ef_construction: every ef_search reaches less recall at about the same speed.
    after = {label: (recall - 0.04, qps * 1.02) for label, (recall, qps) in before.items()}
    points = sweep_points(_point_results("b" * 40, after))[("hnsw", 10_000)]
    assert len(points) == 3
    assert [p.label for p in frontier(points)] == ["m=16 ef_search=10", "m=16 ef_search=40"]  # m=8 is dominated

    page = frontier_to_html(
        _point_results("b" * 40, after), "b" * 40, "veracity", _point_results("a" * 40, before), "a" * 40
    )
    lines = re.findall(r"<polyline class='frontier' points='([^']+)' fill='none' stroke='(#[0-9a-f]+)'", page)
    assert [colour for _, colour in lines] == ["#999999", "#1f5fbf"]  # the previous commit, then the latest
    (old, _), (new, _) = lines
    right_end = [max(float(xy.split(",")[0]) for xy in line.split()) for line in (old, new)]
    assert right_end[1] < right_end[0]  # the latest frontier stops short, at lower recall
    assert page.count("class='target'") == 2 and "hnsw, 10,000 vectors" in page
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")


def test_the_frontier_page_says_so_without_sweep_points() -> None:
    from veracity.tracking.site_frontier import frontier_to_html

    assert "No recall/QPS sweep on these commits" in frontier_to_html([], None, "veracity")
