"""Reports for people and CI: plain text, Markdown (pull-request comments) and JSON."""

from __future__ import annotations

import html
import json
import math
from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from veracity.tracking.detect import Comparison, Verdict
from veracity.tracking.drift import MachineDrift, drift_behind
from veracity.tracking.history import Regression
from veracity.tracking.targets import TargetStatus

_TIME_STEPS = ((1e-6, "ns", 1e9), (1e-3, "µs", 1e6), (1.0, "ms", 1e3))
_BYTE_STEPS = ((1e3, "B", 1), (1e6, "kB", 1e-3), (1e9, "MB", 1e-6))


def format_value(value: float | None, unit: str) -> str:
    """A value in a human unit: 1.5 ms, 3.2 GB, 512.3 texts/s; `failed` / `skipped` for missing ones."""
    if value is None:
        return "failed"
    if not math.isfinite(value):
        return "skipped" if math.isnan(value) else str(value)
    if unit == "seconds":
        for bound, name, scale in _TIME_STEPS:
            if abs(value) < bound:
                return f"{value * scale:.3g} {name}"
        return f"{value:.3g} s"
    if unit == "bytes":
        for bound, name, scale in _BYTE_STEPS:
            if abs(value) < bound:
                return f"{value * scale:.3g} {name}"
        return f"{value / 1e9:.3g} GB"
    return f"{value:.4g} {unit}".rstrip()


def direction_word(higher_is_better: bool) -> str:
    return "higher is better" if higher_is_better else "lower is better"


def _ratio(r: float | None) -> str:
    return "n/a" if r is None else f"{r:.3f}"


def _short(commit: str | None) -> str:
    return commit[:8] if commit else "?"


def _params_text(params: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params)


# A stray backtick would pair with a later code span's and push its content out as raw HTML.
_MD_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "|": "\\|", "`": "\\`", "\n": " ", "\r": " "})


class _Code(str):
    """A Markdown code span, already safe: `_md_cell` leaves it as it is."""


def _md_cell(text: str) -> str:
    """Text for a Markdown table cell: HTML inert (a commit message or parameter may hold tags), no cell breaks."""
    if isinstance(text, _Code):
        return text
    return text.translate(_MD_ESCAPES)


def _md_code(text: str) -> str:
    """A code span (its content shows as typed, tags included), unless a backtick could close it early."""
    if "`" in text:
        return _md_cell(text)
    return _Code("`" + text.replace("|", "\\|").replace("\n", " ").replace("\r", " ") + "`")


def _md_row(*cells: str) -> str:
    """One Markdown table row of these cells (each made safe by `_md_cell`)."""
    return "| " + " | ".join(_md_cell(x) for x in cells) + " |"


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


# --- machine drift -------------------------------------------------------------------------------

DRIFT_TAG = "machine drift?"


def drift_sentence(drift: MachineDrift) -> str:
    speed = "slower" if drift.slower else "faster"
    return (
        f"this machine ran {speed} on the later side: its yardstick {drift.yardstick} read "
        f"{format_value(drift.before, drift.unit)} -> {format_value(drift.after, drift.unit)} (ratio {drift.ratio:.3f})"
    )


def _drift_notes(pairs: Sequence[tuple[MachineDrift, str, str]], affected: int) -> list[str]:
    """One note (or none): how many changes may be the machine's, which yardsticks moved, what to run."""
    if not affected or not pairs:
        return []
    drifts = {d.yardstick: d for d, _, _ in reversed(pairs)}.values()  # one per yardstick: the first met
    commands = dict.fromkeys(f"veracity continuous {_short(good)} {_short(latest)}" for _, good, latest in pairs)
    return [
        f"{affected} change(s) marked '{DRIFT_TAG}' may be the machine, not the code: "
        + "; ".join(drift_sentence(d) for d in drifts)
        + ". Re-measure both commits side by side: "
        + ", ".join(commands)
    ]


# --- regressions ---------------------------------------------------------------------------------


def _change_fields(r: Comparison) -> dict:
    """The JSON fields of a comparison row, which a regression row (a Comparison too) starts with."""
    return {
        "benchmark": r.benchmark,
        "key": r.key,
        "params": dict(r.params),
        "unit": r.unit,
        "direction": direction_word(r.higher_is_better),
        "env": r.env_name,
        "before": _finite(r.before),
        "after": _finite(r.after),
        "ratio": _finite(r.ratio),
        "p_value": _finite(r.p_value),
        "threshold": r.threshold,
        "verdict": r.verdict.value,
    }


def regression_range(r: Regression) -> str:
    if r.good_commit is None:
        return _short(r.first_bad_commit)
    return f"{_short(r.good_commit)}..{_short(r.first_bad_commit)}"


def regressions_to_json(regressions: Sequence[Regression]) -> str:
    rows = [
        {
            **_change_fields(r),
            "machine": r.machine,
            "good_commit": r.good_commit,
            "first_bad_commit": r.first_bad_commit,
            "latest_commit": r.latest_commit,
            "accepted": None
            if r.accepted is None
            else {"reason": r.accepted.reason, "expires": r.accepted.expires.isoformat()},
            "machine_drift": None if r.machine_drift is None else r.machine_drift.to_json(),
        }
        for r in regressions
    ]
    failing = sum(r.fails_ci for r in regressions)
    drifted = sum(r.machine_drift is not None for r in regressions)
    return json.dumps(
        {"regressions": rows, "failing": failing, "accepted": len(rows) - failing, "machine_drift": drifted},
        indent=2,
    )


def _regression_drift_notes(regressions: Sequence[Regression]) -> list[str]:
    drifted = [r for r in regressions if r.machine_drift is not None]
    pairs = [(r.machine_drift, r.good_commit or r.first_bad_commit, r.latest_commit) for r in drifted]
    return _drift_notes(pairs, len(drifted))  # type: ignore[arg-type]


def regressions_to_text(regressions: Sequence[Regression]) -> str:
    if not regressions:
        return "No open regressions."
    lines = [f"{len(regressions)} open regression(s) ({sum(r.fails_ci for r in regressions)} failing CI):"]
    lines += [f"  note: {n}" for n in _regression_drift_notes(regressions)]
    for r in regressions:
        accepted = f"  [accepted until {r.accepted.expires}: {r.accepted.reason}]" if r.accepted else ""
        drift = f"  [{DRIFT_TAG}]" if r.machine_drift else ""
        lines.append(
            f"  {r.key}  {format_value(r.before, r.unit)} -> {format_value(r.after, r.unit)}"
            f"  ratio {_ratio(r.ratio)} ({direction_word(r.higher_is_better)})"
            f"  commits {regression_range(r)}{accepted}{drift}"
        )
    return "\n".join(lines)


def regressions_to_markdown(regressions: Sequence[Regression]) -> str:
    if not regressions:
        return "**No open regressions.**\n"
    failing = sum(r.fails_ci for r in regressions)
    out = [
        f"**{len(regressions)} open regression(s)**, {failing} failing CI, {len(regressions) - failing} accepted.",
        "",
        *(f"> ⚠️ {_md_cell(n)}\n" for n in _regression_drift_notes(regressions)),
        "| Benchmark | Parameters | Unit | Direction | Before | After | Ratio | Commits | Status |",
        "|---|---|---|---|---:|---:|---:|---|---|",
    ]
    for r in regressions:
        status = f"accepted until {r.accepted.expires}: {r.accepted.reason}" if r.accepted else "❌ open"
        status += f" ({DRIFT_TAG})" if r.machine_drift else ""
        out.append(
            _md_row(
                _md_code(r.benchmark),
                _params_text(r.params),
                r.unit,
                direction_word(r.higher_is_better),
                format_value(r.before, r.unit),
                format_value(r.after, r.unit),
                _ratio(r.ratio),
                regression_range(r),
                status,
            )
        )
    return "\n".join(out) + "\n"


# --- comparisons ---------------------------------------------------------------------------------

_MARK = {
    Verdict.WORSE: "❌ worse",
    Verdict.BETTER: "✅ better",
    Verdict.FAILED: "❌ failed",
    Verdict.FIXED: "✅ fixed",
    Verdict.GREY: "❔ inconclusive",
    Verdict.UNCHANGED: "unchanged",
    Verdict.INCOMPARABLE: "not comparable",
}
_ORDER = [Verdict.WORSE, Verdict.FAILED, Verdict.GREY, Verdict.BETTER, Verdict.FIXED, Verdict.INCOMPARABLE]


def count_verdicts(rows: Sequence[Comparison]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for r in rows:
        group = {Verdict.FAILED: Verdict.WORSE, Verdict.FIXED: Verdict.BETTER}.get(r.verdict, r.verdict)
        counts[group.value] += 1
    return counts


def _changed(rows: Sequence[Comparison]) -> list[Comparison]:
    return sorted(
        (r for r in rows if r.verdict in _ORDER and r.verdict is not Verdict.INCOMPARABLE),
        key=lambda r: (_ORDER.index(r.verdict), r.key),
    )


def _mark(r: Comparison, accepted: AbstractSet[str], drift: Sequence[MachineDrift] = ()) -> str:
    mark = _MARK[r.verdict]
    if r.key in accepted and r.verdict.is_worse:
        mark += " (accepted)"
    return mark + f" ({DRIFT_TAG})" if drift_behind(r.unit, r.verdict, drift) else mark


def _comparison_drift_notes(
    rows: Sequence[Comparison], before: str, after: str, drift: Sequence[MachineDrift]
) -> list[str]:
    affected = sum(drift_behind(r.unit, r.verdict, drift) is not None for r in rows)
    return _drift_notes([(d, before, after) for d in drift], affected)


def comparison_to_markdown(
    rows: Sequence[Comparison],
    before: str,
    after: str,
    accepted: AbstractSet[str] = frozenset(),
    drift: Sequence[MachineDrift] = (),
) -> str:
    """Counts first (worse, better, unchanged), then a table of the rows that changed."""
    c = count_verdicts(rows)
    out = [
        f"### Benchmarks: {_md_code(_short(before))} → {_md_code(_short(after))}",
        "",
        f"**{c['worse']} worse**, {c['better']} better, {c['unchanged']} unchanged"
        + (f", {c['grey']} inconclusive" if c["grey"] else "")
        + (f", {c['incomparable']} not comparable" if c["incomparable"] else "")
        + ".",
        "",
        *(f"> ⚠️ {_md_cell(n)}\n" for n in _comparison_drift_notes(rows, before, after, drift)),
    ]
    changed = _changed(rows)
    if changed:
        out += [
            "| | Benchmark | Parameters | Before | After | Ratio | Direction |",
            "|---|---|---|---:|---:|---:|---|",
        ]
        for r in changed:
            out.append(
                _md_row(
                    _mark(r, accepted, drift),
                    _md_code(r.benchmark),
                    _params_text(r.params),
                    format_value(r.before, r.unit),
                    format_value(r.after, r.unit),
                    _ratio(r.ratio),
                    direction_word(r.higher_is_better),
                )
            )
    return "\n".join(out) + "\n"


def comparison_to_text(
    rows: Sequence[Comparison],
    before: str,
    after: str,
    only_changed: bool = False,
    accepted: AbstractSet[str] = frozenset(),
    drift: Sequence[MachineDrift] = (),
) -> str:
    c = count_verdicts(rows)
    lines = [
        f"{_short(before)} -> {_short(after)}: {c['worse']} worse, {c['better']} better, "
        f"{c['unchanged']} unchanged, {c['grey']} inconclusive, {c['incomparable']} not comparable"
    ]
    lines += [f"  note: {n}" for n in _comparison_drift_notes(rows, before, after, drift)]
    shown = _changed(rows) if only_changed else sorted(rows, key=lambda r: r.key)
    for r in shown:
        lines.append(
            f"  {_mark(r, accepted, drift):<16} {format_value(r.before, r.unit):>16}"
            f" {format_value(r.after, r.unit):>16}"
            f"  {_ratio(r.ratio):>7}  {r.key}  ({direction_word(r.higher_is_better)})"
        )
    return "\n".join(lines)


def comparison_to_json(rows: Sequence[Comparison], before: str, after: str, drift: Sequence[MachineDrift] = ()) -> str:
    return json.dumps(
        {
            "before": before,
            "after": after,
            "counts": dict(count_verdicts(rows)),
            "machine_drift": [d.to_json() for d in drift],
            "rows": [
                {**_change_fields(r), "machine_drift": drift_behind(r.unit, r.verdict, drift) is not None} for r in rows
            ],
        },
        indent=2,
    )


# --- targets -------------------------------------------------------------------------------------


def _margin(m: float | None) -> str:
    return "n/a" if m is None else f"{m * 100:+.1f}%"


def targets_to_text(statuses: Sequence[TargetStatus], commit: str | None) -> str:
    lines = [f"Targets at {_short(commit)}:"]
    for s in statuses:
        value = format_value(s.value, s.target.unit) if s.key else "no result"
        lines.append(
            f"  {s.status.icon} {s.target.title:<42} {s.target.describe():<18} {value:>16}  margin {_margin(s.margin)}"
        )
    return "\n".join(lines)


def targets_to_markdown(statuses: Sequence[TargetStatus], commit: str | None) -> str:
    out = [
        f"### Targets at {_md_code(_short(commit))}",
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
                format_value(s.value, s.target.unit) if s.key else "no result",
                _margin(s.margin),
                _md_code(s.key or s.target.benchmark),
            )
        )
    return "\n".join(out) + "\n"


def targets_to_html(statuses: Sequence[TargetStatus], commit: str | None, project: str) -> str:
    """A standalone page for html/targets.html (asv's site has no slot for custom pages)."""
    esc = html.escape
    rows = "\n".join(
        f"<tr class='{esc(s.status.value.replace(' ', '-'))}'><td>{s.status.icon}</td><td>{esc(s.target.title)}</td>"
        f"<td>{esc(s.target.describe())}</td>"
        f"<td>{esc(format_value(s.value, s.target.unit) if s.key else 'no result')}</td>"
        f"<td>{esc(_margin(s.margin))}</td><td><code>{esc(s.key or s.target.benchmark)}</code></td></tr>"
        for s in statuses
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(project)} performance targets</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.3em .6em}}tr.missed{{background:#fdd}}tr.close{{background:#ffd}}</style>
</head><body><h1>{esc(project)} performance targets</h1>
<p>Latest commit: <code>{esc(_short(commit))}</code>. ✅ met, ⚠️ met with under 10% margin, ❌ missed,
❔ no result. <a href="index.html">Back to the benchmarks</a>.</p>
<table><thead><tr><th></th><th>Target</th><th>Limit</th><th>Latest</th><th>Margin</th><th>Benchmark</th></tr></thead>
<tbody>
{rows}
</tbody></table></body></html>
"""
