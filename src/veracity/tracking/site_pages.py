"""The standalone pages veracity adds to the published site (asv's site has no slot for custom pages).

html/regressions.html: what `veracity regressions` lists, accepted rows as accepted; html/targets.html:
the product targets on the latest commit; html/triage.html: the benchmarks broken on every commit
measured, and what each triage entry does. The asv plugin writes all three. Status marks are inline SVG
and words, not emoji: a machine without a colour-emoji font (headless Chromium on Debian) shows emoji
as empty boxes.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

from veracity.tracking.detect import Verdict
from veracity.tracking.history import Regression
from veracity.tracking.report import direction_word, format_value, short_commit
from veracity.tracking.report.formatting import _params_text, _ratio
from veracity.tracking.report.regressions import regression_range, split_waiting, waiting_sentence, work_said
from veracity.tracking.report.targets import format_margin, latest_value
from veracity.tracking.targets import Status, TargetStatus
from veracity.tracking.triage_review import TriageReview

_GREEN, _AMBER, _RED, _GREY = "#1a7f37", "#9a6700", "#cf222e", "#6e7781"
_STATUS_COLOURS = {
    Status.MET: _GREEN,
    Status.CLOSE: _AMBER,
    Status.MISSED: _RED,
    Status.NO_DATA: _GREY,
    Status.NO_BENCHMARK: _GREY,
}


def mark(colour: str, words: str) -> str:
    """A status mark any browser draws: a coloured disc (inline SVG) and the status in words."""
    disc = (
        "<svg width='10' height='10' viewBox='0 0 10 10' aria-hidden='true'>"
        f"<circle cx='5' cy='5' r='5' fill='{colour}'/></svg>"
    )
    return f"<span class='mark'>{disc} {html.escape(words)}</span>"


def status_mark(status: Status) -> str:
    return mark(_STATUS_COLOURS[status], status.value)


def targets_to_html(statuses: Sequence[TargetStatus], commit: str | None, project: str) -> str:
    """The page html/targets.html: each target's status, limit, latest value and margin."""
    esc = html.escape
    rows = "\n".join(
        f"<tr class='{esc(s.status.value.replace(' ', '-'))}'><td>{status_mark(s.status)}</td>"
        f"<td>{esc(s.target.title)}</td>"
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
<p>Latest commit: <code>{esc(short_commit(commit))}</code>. {status_mark(Status.MET)}, {status_mark(Status.CLOSE)}: met
with under 10% margin, {status_mark(Status.MISSED)}, {status_mark(Status.NO_DATA)}: no result,
{status_mark(Status.NO_BENCHMARK)} in the suite. <a href="index.html">Back to the benchmarks</a>.</p>
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


def _regression_status(r: Regression) -> str:
    if r.accepted is not None:
        return mark(_GREY, f"accepted until {r.accepted.expires}: {r.accepted.reason}")
    if r.verdict is Verdict.FAILED:
        return mark(_RED, "failed, failing CI")
    return mark(_RED, "open, failing CI")


def regressions_to_html(
    regressions: Sequence[tuple[str, Sequence[Regression]]], explain: Mapping[str, str], project: str
) -> str:
    """The page html/regressions.html: per machine, what `veracity regressions` lists and no more.

    `regressions`: (machine, its open regressions as tracking.history finds them); `explain`: benchmark key
    -> the href of its explain page, where one exists. An accepted row shows as accepted, with its reason
    and expiry; every row says where its noise figure came from.
    """
    esc = html.escape
    sections = []
    for machine, found in regressions:
        judged, waiting = split_waiting(found)
        rows = [r for r in judged if r.verdict is not Verdict.BROKEN]
        broken = len(judged) - len(rows)
        body = (
            "\n".join(
                f"<tr class='{'accepted' if r.accepted else 'open'}'><td><code>{esc(r.benchmark)}</code>"
                f" <a href='index.html#{esc(r.benchmark)}?machine={esc(machine)}'>graph</a>"
                + (f" <a href='{esc(explain[r.key])}'>explain</a>" if r.key in explain else "")
                + f"</td><td>{esc(_params_text(r.params))}</td><td>{esc(direction_word(r.higher_is_better))}</td>"
                f"<td>{esc(format_value(r.before, r.unit))}</td><td>{esc(format_value(r.after, r.unit))}</td>"
                f"<td>{esc(_ratio(r.ratio))}</td><td><code>{esc(regression_range(r))}</code></td>"
                f"<td>{esc(r.noise_source)}</td><td>{_regression_status(r)}"
                + (" (machine drift?)" if r.machine_drift else "")
                + (f" ({esc(work_said(r))})" if r.work else "")
                + "</td></tr>"
                for r in rows
            )
            or "<tr><td colspan='9'>No open regressions.</td></tr>"
        )
        failing = sum(r.fails_ci for r in rows)
        notes = [f"{len(rows)} open regression(s), {failing} failing CI, {len(rows) - failing} accepted."]
        if broken:
            notes.append(f"{broken} benchmark(s) broken on every commit measured: see the triage page.")
        if waiting:
            notes.append(waiting_sentence(waiting) + ".")
        sections.append(
            f"<h2>{esc(machine)}</h2>\n<p>{' '.join(esc(n) for n in notes)}</p>\n"
            "<table><thead><tr><th>Benchmark</th><th>Parameters</th><th>Direction</th><th>Before</th><th>After</th>"
            "<th>Ratio</th><th>Commits</th><th>Noise figure</th><th>Status</th></tr></thead>\n"
            f"<tbody>\n{body}\n</tbody></table>"
        )
    content = "\n".join(sections) or "<p>No results yet.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(project)} regressions</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:2em}}
td,th{{border:1px solid #ccc;padding:.3em .6em}}tr.open{{background:#fdd}}tr.accepted{{background:#eee}}</style>
</head><body><h1>{esc(project)} regressions</h1>
<p>The open regressions of the latest commit of each machine, as <code>veracity regressions</code> lists them:
worse than the commits before them by more than their noise figure. An accepted regression (triage) stays
listed but does not fail CI. <a href="index.html">Back to the benchmarks</a>, <a href="triage.html">triage</a>.</p>
{content}
</body></html>
"""
