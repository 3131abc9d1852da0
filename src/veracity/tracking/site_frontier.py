"""The site's frontier page (html/frontier.html): vector search's recall/QPS frontier of the latest
commit beside the commit before it, one offline SVG per index kind and corpus size.

asv stores the sweep only as numbers: `vector_frontier.HnswFrontierPoints.track_point_recall(n, point)`
and `..._qps` hold one value per sweep point. This page puts each commit's points back on a plane,
draws the points no other beats on both recall and speed (the frontier, as ann-benchmarks plots it),
and marks the recall targets the suite judges QPS at. A build change that lowers recall at every
`ef_search` shows as the latest curve pulled left of its predecessor. Inline SVG: no script, nothing
fetched.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

from veracity.tracking.report import short_commit
from veracity.tracking.results import BenchmarkResult
from veracity.tracking.site_quality import param_value

POINT_CLASSES = {"vector_frontier.HnswFrontierPoints": "hnsw", "vector_frontier.IvfflatFrontierPoints": "ivfflat"}
RECALL_TARGETS = (0.95, 0.99)
WIDTH, HEIGHT, MARGIN = 560, 320, 56
LATEST_COLOUR, PREVIOUS_COLOUR = "#1f5fbf", "#999999"


@dataclass(frozen=True)
class Point:
    recall: float
    qps: float
    label: str


def sweep_points(results: Sequence[BenchmarkResult]) -> dict[tuple[str, int], list[Point]]:
    """(index kind, vectors) -> the commit's sweep points, each with both its recall and its QPS."""
    figures: dict[tuple[str, int, str], dict[str, float]] = {}
    for r in results:
        kind = POINT_CLASSES.get(r.benchmark.rsplit(".", 1)[0])
        if kind is None or not r.ok or len(r.params) != 2:
            continue
        figure = r.benchmark.rsplit(".", 1)[1].removeprefix("track_point_")
        figures.setdefault((kind, int(param_value(r.params[0])), param_value(r.params[1])), {})[figure] = float(
            r.value  # type: ignore[arg-type]
        )
    points: dict[tuple[str, int], list[Point]] = {}
    for (kind, n, label), values in sorted(figures.items()):
        if "recall" in values and values.get("qps", 0.0) > 0:
            points.setdefault((kind, n), []).append(Point(values["recall"], values["qps"], label))
    return points


def frontier(points: Sequence[Point]) -> list[Point]:
    """The points no other beats on both recall and QPS, by recall ascending."""
    kept: list[Point] = []
    for point in sorted(points, key=lambda p: (-p.recall, -p.qps)):
        if not kept or point.qps > kept[-1].qps:
            kept.append(point)
    return kept[::-1]


def _scales(everything: Sequence[Point]):
    low = min(min(p.recall for p in everything), min(RECALL_TARGETS)) - 0.01
    low = max(0.0, math.floor(low * 20) / 20)
    q_low = math.log10(min(p.qps for p in everything)) - 0.05
    q_high = math.log10(max(p.qps for p in everything)) + 0.05

    def x(recall: float) -> float:
        return MARGIN + (recall - low) / (1.0 - low) * (WIDTH - 2 * MARGIN)

    def y(qps: float) -> float:
        return HEIGHT - MARGIN - (math.log10(qps) - q_low) / (q_high - q_low) * (HEIGHT - 2 * MARGIN)

    return x, y, low, (q_low, q_high)


def _series(points: Sequence[Point], x, y, colour: str, name: str, dashed: bool) -> str:
    esc = html.escape
    dots = "".join(
        f"<circle cx='{x(p.recall):.1f}' cy='{y(p.qps):.1f}' r='2.5' fill='{colour}' fill-opacity='0.35'>"
        f"<title>{esc(name)}: {esc(p.label)}, recall {p.recall:.3f}, {p.qps:.0f} queries/s</title></circle>"
        for p in points
    )
    line = " ".join(f"{x(p.recall):.1f},{y(p.qps):.1f}" for p in frontier(points))
    dash = " stroke-dasharray='5 4'" if dashed else ""
    return f"{dots}<polyline class='frontier' points='{line}' fill='none' stroke='{colour}' stroke-width='2'{dash}/>"


def frontier_svg(latest: Sequence[Point], previous: Sequence[Point], title: str) -> str:
    """One plane: recall@10 across, queries/s up (log), the previous commit's frontier dashed grey."""
    everything = [*latest, *previous]
    if not everything:
        return f"<p>No sweep points for {html.escape(title)} on these commits.</p>"
    x, y, low, (q_low, q_high) = _scales(everything)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' role='img' "
        f"aria-label='{html.escape(title)}' font-family='sans-serif' font-size='11'>",
        f"<text x='{WIDTH / 2}' y='16' text-anchor='middle' font-size='13'>{html.escape(title)}</text>",
        f"<line x1='{MARGIN}' y1='{HEIGHT - MARGIN}' x2='{WIDTH - MARGIN}' y2='{HEIGHT - MARGIN}' stroke='#444'/>",
        f"<line x1='{MARGIN}' y1='{MARGIN}' x2='{MARGIN}' y2='{HEIGHT - MARGIN}' stroke='#444'/>",
    ]
    steps = round((1.0 - low) / 0.05)
    for i in range(steps + 1):
        recall = low + i * 0.05
        parts.append(f"<text x='{x(recall):.1f}' y='{HEIGHT - MARGIN + 14}' text-anchor='middle'>{recall:.2f}</text>")
    for exponent in range(math.ceil(q_low), math.floor(q_high) + 1):
        for mantissa in (1, 2, 5):
            qps = mantissa * 10**exponent
            if q_low <= math.log10(qps) <= q_high:
                parts.append(f"<text x='{MARGIN - 6}' y='{y(qps) + 4:.1f}' text-anchor='end'>{qps:g}</text>")
    for i, target in enumerate(RECALL_TARGETS):  # labels one under the other: the marks stand close
        parts.append(
            f"<line class='target' x1='{x(target):.1f}' y1='{MARGIN}' x2='{x(target):.1f}' y2='{HEIGHT - MARGIN}' "
            f"stroke='#c33' stroke-dasharray='2 3'/><text x='{x(target) - 3:.1f}' y='{MARGIN - 4 - 12 * i}' "
            f"text-anchor='end' fill='#c33'>recall {target}</text>"
        )
    parts.append(
        f"<text x='{WIDTH / 2}' y='{HEIGHT - 12}' text-anchor='middle'>recall@10</text>"
        f"<text x='14' y='{HEIGHT / 2}' transform='rotate(-90 14 {HEIGHT / 2})' text-anchor='middle'>"
        "queries/s (log)</text>"
    )
    if previous:
        parts.append(_series(previous, x, y, PREVIOUS_COLOUR, "previous commit", dashed=True))
    if latest:
        parts.append(_series(latest, x, y, LATEST_COLOUR, "latest commit", dashed=False))
    parts.append("</svg>")
    return "".join(parts)


def frontier_to_html(
    results: Sequence[BenchmarkResult],
    commit: str | None,
    project: str,
    previous: Sequence[BenchmarkResult] = (),
    previous_commit: str | None = None,
) -> str:
    """The page html/frontier.html for one machine: `results` of the latest commit, `previous` of the one before."""
    esc = html.escape
    latest_points, previous_points = sweep_points(results), sweep_points(previous)
    against = (
        f" (solid blue) against <code>{esc(short_commit(previous_commit))}</code> (dashed grey)"
        if previous_commit
        else ""
    )
    planes = [
        frontier_svg(latest_points.get(key, []), previous_points.get(key, []), f"{key[0]}, {key[1]:,} vectors")
        for key in sorted(set(latest_points) | set(previous_points))
    ]
    body = "".join(f"<figure>{plane}</figure>" for plane in planes) or (
        "<p>No recall/QPS sweep on these commits (vector_frontier's point benchmarks did not run).</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(project)} recall/QPS frontier</title>
<style>body{{font-family:sans-serif;margin:2em}}figure{{display:inline-block;margin:0 1em 1em 0}}</style>
</head><body><h1>{esc(project)}: vector search, recall against speed</h1>
<p>Latest commit: <code>{esc(short_commit(commit))}</code>{against}.
<a href="index.html">Back to the benchmarks</a>.</p>
<p>Each dot is one configuration of the sweep (index build and search setting, one connection, 200 seeded
queries); the line joins those no other configuration beats on both recall and speed. QPS at a recall
(judged per commit) is read off this line where it crosses the red marks.</p>
{body}
</body></html>
"""
