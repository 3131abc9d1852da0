"""The standalone pages veracity adds to the published site (asv's site has no slot for custom pages).

html/targets.html: the product targets on the latest commit; html/triage.html: the benchmarks broken
on every commit measured, and what each triage entry does. The asv plugin writes both.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from veracity.tracking.history import Regression, TriageReview
from veracity.tracking.report import short_commit
from veracity.tracking.report.targets import format_margin, latest_value
from veracity.tracking.targets import TargetStatus


def targets_to_html(statuses: Sequence[TargetStatus], commit: str | None, project: str) -> str:
    """The page html/targets.html: each target's status, limit, latest value and margin."""
    esc = html.escape
    rows = "\n".join(
        f"<tr class='{esc(s.status.value.replace(' ', '-'))}'><td>{s.status.icon}</td><td>{esc(s.target.title)}</td>"
        f"<td>{esc(s.target.describe())}</td>"
        f"<td>{esc(latest_value(s))}</td>"
        f"<td>{esc(format_margin(s.margin))}</td><td><code>{esc(s.key or s.target.benchmark)}</code></td></tr>"
        for s in statuses
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(project)} performance targets</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em}}tr.missed{{background:#fdd}}tr.close{{background:#ffd}}</style>
</head><body><h1>{esc(project)} performance targets</h1>
<p>Latest commit: <code>{esc(short_commit(commit))}</code>. ✅ met, ⚠️ met with under 10% margin, ❌ missed,
❔ no result, ⛔ no such benchmark in the suite. <a href="index.html">Back to the benchmarks</a>.</p>
<table><thead><tr><th></th><th>Target</th><th>Limit</th><th>Latest</th><th>Margin</th><th>Benchmark</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""


def triage_to_html(broken: Sequence[Regression], reviews: Sequence[tuple[str, TriageReview]], project: str) -> str:
    """The page html/triage.html: what is broken, and what each triage entry does."""
    esc = html.escape
    broken_rows = (
        "\n".join(
            f"<tr class='broken'><td>{esc(r.machine)}</td><td><code>{esc(r.key)}</code></td>"
            f"<td><code>{esc(short_commit(r.first_bad_commit))}</code> or earlier</td></tr>"
            for r in broken
        )
        or "<tr><td colspan='3'>None: every benchmark ran on the latest commit or before it.</td></tr>"
    )
    triage_rows = (
        "\n".join(
            f"<tr class='{esc(t.state.value.replace(' ', '-'))}'><td>{esc(machine)}</td>"
            f"<td><code>{esc(t.entry.benchmark)}</code></td><td><code>{esc(t.entry.commit)}</code></td>"
            f"<td>{esc(t.state.value)}</td><td>{esc(t.detail)}</td><td>{esc(t.entry.reason)}</td>"
            f"<td>{esc(t.entry.expires.isoformat())}</td></tr>"
            for machine, t in reviews
        )
        or "<tr><td colspan='7'>No triage entries.</td></tr>"
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(project)} triage</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:2em}}
td,th{{border:1px solid #ccc;padding:.3em .6em}}
tr.broken,tr.stale{{background:#fdd}}tr.expired{{background:#ffd}}</style>
</head><body><h1>{esc(project)} triage</h1>
<p><a href="index.html">Back to the benchmarks</a>.</p>
<h2>Broken on every commit measured</h2>
<p>These benchmarks failed wherever they ran: they measure nothing, and no regression in them can be seen.</p>
<table><thead><tr><th>Machine</th><th>Benchmark</th><th>Failing since</th></tr></thead>
<tbody>
{broken_rows}
</tbody></table>
<h2>Accepted regressions</h2>
<p>Each entry accepts one regression (benchmark, commit, level). Stale: its regression no longer exists or it
matches nothing; expired: the regression counts again.</p>
<table><thead><tr><th>Machine</th><th>Benchmark</th><th>Commit</th><th>State</th><th>Why</th><th>Reason</th>
<th>Expires</th></tr></thead>
<tbody>
{triage_rows}
</tbody></table></body></html>
"""
