"""The product targets on the latest commit: text and Markdown (the site's page is in site_pages)."""

from __future__ import annotations

from collections.abc import Sequence

from veracity.tracking.report.formatting import (
    _md_code,
    _md_row,
    format_value,
    short_commit,
)
from veracity.tracking.targets import Status, TargetStatus


def latest_value(s: TargetStatus) -> str:
    """The latest value of a target's benchmark, or why there is none."""
    if s.key:
        return format_value(s.value, s.target.unit)
    return "no such benchmark" if s.status is Status.NO_BENCHMARK else "no result"


def format_margin(m: float | None) -> str:
    return "n/a" if m is None else f"{m * 100:+.1f}%"


def targets_to_text(statuses: Sequence[TargetStatus], commit: str | None) -> str:
    lines = [f"Targets at {short_commit(commit)}:"]
    for s in statuses:
        value = latest_value(s)
        lines.append(
            f"  {s.status.icon} {s.target.title:<42} {s.target.describe():<18} {value:>16}"
            f"  margin {format_margin(s.margin)}"
        )
    return "\n".join(lines)


def targets_to_markdown(statuses: Sequence[TargetStatus], commit: str | None) -> str:
    out = [
        f"### Targets at {_md_code(short_commit(commit))}",
        "",
        "| | Target | Limit | Latest | Margin | Benchmark |",
        "|---|---|---|---:|---:|---|",
    ]
    for s in statuses:
        out.append(
            _md_row(
                s.status.icon,
                s.target.title,
                s.target.describe(),
                latest_value(s),
                format_margin(s.margin),
                _md_code(s.key or s.target.benchmark),
            )
        )
    return "\n".join(out) + "\n"
