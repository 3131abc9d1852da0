"""Two commits compared, row by row: text, Markdown (pull-request comments) and JSON."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from veracity.tracking.detect import Comparison, Verdict
from veracity.tracking.drift import MachineDrift, drift_behind
from veracity.tracking.inrun import InRunNoise
from veracity.tracking.report.formatting import (
    DRIFT_TAG,
    _drift_notes,
    _md_cell,
    _md_code,
    _md_row,
    _params_text,
    _ratio,
    direction_word,
    format_value,
    noise_sources,
    short_commit,
)
from veracity.tracking.report.regressions import change_fields

_MARK = {
    Verdict.WORSE: "❌ worse",
    Verdict.BETTER: "✅ better",
    Verdict.FAILED: "❌ failed",
    Verdict.FIXED: "✅ fixed",
    Verdict.GREY: "❔ inconclusive",
    Verdict.UNCHANGED: "unchanged",
    Verdict.BROKEN: "⛔ broken",
    Verdict.DESCRIPTIVE: "descriptive",
    Verdict.INCOMPARABLE: "not comparable",
    Verdict.NOT_ENOUGH_HISTORY: "⏳ not enough history",
}
_ORDER = [
    Verdict.WORSE,
    Verdict.FAILED,
    Verdict.BROKEN,
    Verdict.GREY,
    Verdict.BETTER,
    Verdict.FIXED,
    Verdict.INCOMPARABLE,
]


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


def row_noise(r: Comparison) -> str:
    """The noise figure of one row, short: `±2.1% in-run (6 rounds)`, or its source where it is not the run's own."""
    inrun = InRunNoise.from_source(r.noise_source)
    if inrun is None:
        return r.noise_source
    return f"±{inrun.half_width * 100:.1f}% in-run ({inrun.rounds} rounds)"


def comparison_noise_summary(rows: Sequence[Comparison]) -> str:
    """Where the rows' noise figures came from: the in-run ones as one group with their rounds and widths
    (`3 in-run (6 interleaved rounds, ±0.4% to ±2.1% at 95%)`), then every other source with its count."""
    inrun = [n for r in rows if (n := InRunNoise.from_source(r.noise_source)) is not None]
    parts = []
    if inrun:
        counts = sorted({n.rounds for n in inrun})
        rounds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
        low, high = min(n.half_width for n in inrun), max(n.half_width for n in inrun)
        width = f"±{low * 100:.1f}%" if f"{low:.3f}" == f"{high:.3f}" else f"±{low * 100:.1f}% to ±{high * 100:.1f}%"
        parts.append(f"{len(inrun)} in-run ({rounds} interleaved rounds, {width} at {inrun[0].confidence:.0%})")
    others = noise_sources([r for r in rows if InRunNoise.from_source(r.noise_source) is None])
    return "; ".join([*parts, *([others] if others else [])])


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
        f"### Benchmarks: {_md_code(short_commit(before))} → {_md_code(short_commit(after))}",
        "",
        f"**{c['worse']} worse**, {c['better']} better, {c['unchanged']} unchanged"
        + (f", **{c['broken']} broken**" if c["broken"] else "")
        + (f", {c['grey']} inconclusive" if c["grey"] else "")
        + (f", {c['incomparable']} not comparable" if c["incomparable"] else "")
        + ".",
        "",
        *(
            [f"Noise figures: {_md_cell(comparison_noise_summary(rows))}.", ""]
            if comparison_noise_summary(rows)
            else []
        ),
        *(f"> ⚠️ {_md_cell(n)}\n" for n in _comparison_drift_notes(rows, before, after, drift)),
    ]
    changed = _changed(rows)
    if changed:
        out += [
            "| | Benchmark | Parameters | Before | After | Ratio | Direction | Noise |",
            "|---|---|---|---:|---:|---:|---|---|",
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
                    row_noise(r),
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
        f"{short_commit(before)} -> {short_commit(after)}: {c['worse']} worse, {c['better']} better, "
        f"{c['unchanged']} unchanged, {c['grey']} inconclusive, {c['incomparable']} not comparable"
        + (f", {c['broken']} broken" if c["broken"] else "")
        + (f", {c['descriptive']} descriptive" if c["descriptive"] else "")
    ]
    lines += [f"  note: {n}" for n in _comparison_drift_notes(rows, before, after, drift)]
    shown = _changed(rows) if only_changed else sorted(rows, key=lambda r: r.key)
    for r in shown:
        lines.append(
            f"  {_mark(r, accepted, drift):<16} {format_value(r.before, r.unit):>16}"
            f" {format_value(r.after, r.unit):>16}"
            f"  {_ratio(r.ratio):>7}  {r.key}  ({direction_word(r.higher_is_better)})"
            + (f"  [{row_noise(r)}]" if InRunNoise.from_source(r.noise_source) else "")
        )
    if comparison_noise_summary(rows):
        lines.append(f"  noise figures: {comparison_noise_summary(rows)}")
    return "\n".join(lines)


def comparison_to_json(rows: Sequence[Comparison], before: str, after: str, drift: Sequence[MachineDrift] = ()) -> str:
    return json.dumps(
        {
            "before": before,
            "after": after,
            "counts": dict(count_verdicts(rows)),
            "machine_drift": [d.to_json() for d in drift],
            "rows": [
                {
                    **change_fields(r),
                    "machine_drift": drift_behind(r.unit, r.verdict, drift) is not None,
                    **_in_run_fields(r),
                }
                for r in rows
            ],
        },
        indent=2,
    )


def _in_run_fields(r: Comparison) -> dict:
    """A row judged on its own run's rounds also gives its figure as numbers: rounds, half-width, confidence."""
    inrun = InRunNoise.from_source(r.noise_source)
    if inrun is None:
        return {}
    return {"in_run": {"rounds": inrun.rounds, "half_width": inrun.half_width, "confidence": inrun.confidence}}
