"""An Explanation as one offline HTML page: a diff bar chart per profile and the stage shares, inline SVG."""

from __future__ import annotations

from html import escape
from pathlib import Path

from veracity.explain.diff import Explanation, Row
from veracity.explain.pages import EXPLAIN_FOLDER, page_name
from veracity.explain.render import SECTIONS, headline, rows_of, seconds, signed
from veracity.fsutil import atomic_write_text

TOP_CHART = 15
WIDTH, LABEL_W, ROW_H = 980, 430, 22
GROW, SHRINK, NOISE = "#c0392b", "#27ae60", "#999999"
STAGE_COLOURS = {"embed": "#4e79a7", "retrieve": "#f28e2b", "nli": "#e15759", "aggregate": "#76b7b2"}


def pair_page(e: Explanation) -> str:
    """The file name of this explanation's own page: the benchmark and both commits."""
    return page_name(e.benchmark, (e.before_commit, e.after_commit))


def _bar_chart(e: Explanation, rows: tuple[Row, ...]) -> str:
    """Bars from a middle axis: right (red) for time gained per call, left (green) for time lost."""
    rows = rows[:TOP_CHART]
    scale = max((abs(r.delta) for r in rows), default=0.0) or 1.0
    half = (WIDTH - LABEL_W - 20) / 2
    axis = LABEL_W + half
    height = ROW_H * len(rows) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" role="img">']
    parts.append(f'<line x1="{axis}" y1="0" x2="{axis}" y2="{height}" stroke="#444"/>')
    for i, row in enumerate(rows):
        y = 5 + i * ROW_H
        length = abs(row.delta) / scale * (half - 70)
        colour = NOISE if abs(row.delta) < e.noise_s else GROW if row.delta > 0 else SHRINK
        x = axis if row.delta >= 0 else axis - length
        label = row.key if len(row.key) <= 62 else row.key[:59] + "..."
        tip = f"{row.key}: {seconds(row.before)} -> {seconds(row.after)} per call {row.status}; {row.detail}"
        text_x, anchor = (axis + length + 4, "start") if row.delta >= 0 else (axis - length - 4, "end")
        parts += [
            f"<g><title>{escape(tip)}</title>",
            f'<text x="{LABEL_W - 6}" y="{y + 14}" text-anchor="end" font-size="12">{escape(label)}</text>',
            f'<rect x="{x:.1f}" y="{y + 2}" width="{max(length, 1):.1f}" height="{ROW_H - 6}" fill="{colour}"/>',
            f'<text x="{text_x:.1f}" y="{y + 14}" text-anchor="{anchor}" font-size="11">'
            f"{escape(signed(row.delta))}{' ' + row.status if row.status else ''}</text></g>",
        ]
    parts.append("</svg>")
    return "".join(parts)


def _stage_chart(e: Explanation) -> str:
    """Two stacked bars, before and after, each as long as its call, split by stage."""
    assert e.stages is not None
    longest = max(e.before_s, e.after_s, sum(s.after for s in e.stages), sum(s.before for s in e.stages)) or 1.0
    span = WIDTH - 120
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="90" role="img">']
    for row, (label, attr) in enumerate((("before", "before"), ("after", "after"))):
        y, x = 10 + row * 40, 70.0
        parts.append(f'<text x="64" y="{y + 18}" text-anchor="end" font-size="12">{label}</text>')
        for stage in e.stages:
            value = getattr(stage, attr)
            width = value / longest * span
            share = stage.share_before if attr == "before" else stage.share_after
            parts.append(
                f"<g><title>{escape(f'{stage.name}: {seconds(value)} ({share:.0%})')}</title>"
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="26" fill="{STAGE_COLOURS[stage.name]}"/>'
                + (
                    f'<text x="{x + 3:.1f}" y="{y + 17}" font-size="11" fill="#fff">{escape(stage.name)}</text>'
                    if width > 40
                    else ""
                )
                + "</g>"
            )
            x += width
    parts.append("</svg>")
    return "".join(parts)


def render_html(e: Explanation, *, latest: bool = False) -> str:
    """A page with no script and no external resource: it opens from disk or any static host.

    `latest`: the benchmark's latest explanation (the page the site's regressions row links), which
    links the page of its pair of commits, kept when a later pair is explained.
    """
    nav = '<a href="../regressions.html">Regressions</a>, <a href="../index.html">the benchmarks</a>'
    if latest:
        nav += f', this pair of commits kept as <a href="{escape(pair_page(e))}">{escape(pair_page(e))}</a>'
    body = [
        f"<h1>Why {escape(e.benchmark)} changed</h1>",
        f"<p>{escape(headline(e))}. The fastest call of {e.calls} a pass, in rounds that alternate the commits; "
        f"changes under {escape(seconds(e.noise_s))} (grey) are within noise. "
        "Each commit's veracity and benchmarks ran with today's dependencies.</p>",
        f"<p>{nav}.</p>",
    ]
    if e.stages:
        body += [f"<h2>Stages: {escape(e.stage_attribution())}</h2>", _stage_chart(e)]
    for section, title in SECTIONS:
        rows = rows_of(e, section)
        if not rows:
            continue
        body += [f"<h2>{escape(title)}</h2>", _bar_chart(e, rows), "<table><tr><th>change</th><th>before</th>"]
        body.append("<th>after</th><th>where</th><th>detail</th></tr>")
        for row in rows[:TOP_CHART]:
            body.append(
                f"<tr><td>{escape(signed(row.delta))}</td><td>{escape(seconds(row.before))}</td>"
                f"<td>{escape(seconds(row.after))}</td><td><code>{escape(row.key)}</code> {escape(row.status)}</td>"
                f"<td>{escape(row.detail)}</td></tr>"
            )
        body.append("</table>")
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:1000px}table{border-collapse:collapse;font-size:12px}"
        "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}code{font-size:11px}"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(e.benchmark)}: explain</title>'
        f"<style>{style}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def write_html(e: Explanation, html_dir: Path, *, keep_in: Path | None = None) -> Path:
    """Write the benchmark's latest page and its pair's page under `<html_dir>/explain/`, atomically, and
    the same two into `keep_in` (pages.explain_store) so that every later publish restores them; only
    those files change. Returns the latest page, the one the site's regressions row links."""
    pages = {page_name(e.benchmark): render_html(e, latest=True), pair_page(e): render_html(e)}
    for folder in (html_dir / EXPLAIN_FOLDER, *((keep_in,) if keep_in is not None else ())):
        for name, text in pages.items():
            atomic_write_text(folder / name, text)
    return html_dir / EXPLAIN_FOLDER / page_name(e.benchmark)
