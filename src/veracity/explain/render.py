"""An Explanation as text (terminal), Markdown (the pull-request comment's section) and summary lines."""

from __future__ import annotations

from veracity.explain.diff import Explanation, Row

TOP_TEXT = 12
TOP_MARKDOWN = 6
SECTIONS = (
    ("python", "Python frames, self time per call"),
    ("operators", "Operators (torch and ONNX Runtime), self CPU time per call"),
    ("statements", "SQL statements, client round trip per call, server side from EXPLAIN (ANALYZE, BUFFERS)"),
)


def seconds(value: float) -> str:
    """A duration at a readable scale: s, ms or µs."""
    size = abs(value)
    if size >= 1:
        return f"{value:.3f} s"
    if size >= 1e-3:
        return f"{value * 1e3:.2f} ms"
    return f"{value * 1e6:.1f} µs"


def signed(value: float) -> str:
    return ("+" if value >= 0 else "-") + seconds(abs(value))


def headline(e: Explanation) -> str:
    return (
        f"{e.benchmark}: {seconds(e.before_s)} -> {seconds(e.after_s)} per call ({e.change:+.1%}) "
        f"from {e.before_commit[:8]} to {e.after_commit[:8]}"
    )


def _mark(e: Explanation, row: Row) -> str:
    marks = [row.status] if row.status else []
    if abs(row.delta) < e.noise_s:
        marks.append("~noise")
    return f" [{', '.join(marks)}]" if marks else ""


def rows_of(e: Explanation, section: str) -> tuple[Row, ...]:
    return getattr(e, section)


def summary_lines(e: Explanation, top: int = 1) -> list[str]:
    """The headline, the stage attribution (pipeline) and the `top` largest changes of each section."""
    lines = [headline(e)]
    if e.stages:
        lines.append(f"stages: {e.stage_attribution()}")
    labels = {"python": "Python", "operators": "operator", "statements": "SQL"}
    for section, _ in SECTIONS:
        for row in rows_of(e, section)[:top]:
            where = f" (from {row.detail})" if section == "python" and row.detail else ""
            lines.append(f"{labels[section]}: {row.key[:100]} {signed(row.delta)} per call{_mark(e, row)}{where}")
    return lines


def render_text(e: Explanation, top: int = TOP_TEXT) -> str:
    out = [
        f"veracity explain: {headline(e)}",
        f"  the fastest call of {e.calls} a pass, rounds alternate the commits; their code, today's dependencies;",
        f"  changes under {seconds(e.noise_s)} (5% of the call) are marked ~noise",
    ]
    if e.stages:
        out += ["", f"Stages per call: {e.stage_attribution()}"]
        out.append(f"  {'stage':<10} {'before':>11} {'after':>11} {'change':>8} {'share before':>13} {'after':>7}")
        for s in e.stages:
            out.append(
                f"  {s.name:<10} {seconds(s.before):>11} {seconds(s.after):>11} {s.change:>+8.1%} "
                f"{s.share_before:>13.1%} {s.share_after:>7.1%}"
            )
    for section, title in SECTIONS:
        rows = rows_of(e, section)
        if not rows:
            continue
        out += ["", f"{title}, largest change first:"]
        out.append(f"  {'change':>11} {'before':>11} {'after':>11}  where")
        for row in rows[:top]:
            out.append(
                f"  {signed(row.delta):>11} {seconds(row.before):>11} {seconds(row.after):>11}  "
                f"{row.key}{_mark(e, row)}" + (f"\n{'':>39}{row.detail}" if row.detail else "")
            )
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(e: Explanation, top: int = TOP_MARKDOWN) -> str:
    """The section of a pull-request comment: headline, stages, and a table per profile."""
    out = [
        f"### Why `{e.benchmark}` changed: {e.change:+.1%}",
        "",
        f"{seconds(e.before_s)} → {seconds(e.after_s)} per call, `{e.before_commit[:8]}` → `{e.after_commit[:8]}` "
        f"(the fastest call of {e.calls} a pass; changes under {seconds(e.noise_s)} are within noise).",
    ]
    if e.stages:
        out += ["", f"**Stages:** {e.stage_attribution()}", "", "| stage | before | after | change | share |"]
        out.append("|---|---:|---:|---:|---|")
        for s in e.stages:
            out.append(
                f"| {s.name} | {seconds(s.before)} | {seconds(s.after)} | {s.change:+.1%} | "
                f"{s.share_before:.0%} → {s.share_after:.0%} |"
            )
    for section, title in SECTIONS:
        rows = rows_of(e, section)[:top]
        if not rows:
            continue
        out += ["", f"**{title}**", "", "| change | before | after | where | detail |", "|---:|---:|---:|---|---|"]
        for row in rows:
            out.append(
                f"| {signed(row.delta)} | {seconds(row.before)} | {seconds(row.after)} | "
                f"`{_cell(row.key)}`{_mark(e, row)} | {_cell(row.detail)} |"
            )
    return "\n".join(out) + "\n"
