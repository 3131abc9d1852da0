"""The site's quality page (html/quality.html): the verdict confusion matrix of the latest commit as a
heat-map, and F1 per class beside the commit before it, so a trade between classes is seen at once.

asv stores a confusion matrix only as numbers: `quality.VerdictQuality.track_confusion(gold, predicted)`
holds one cell per parameter pair. This page puts them back together. Self-contained: inline styles,
no script, nothing fetched.
"""

from __future__ import annotations

import ast
import html
from collections.abc import Sequence

from veracity.tracking.report import short_commit
from veracity.tracking.results import BenchmarkResult

CONFUSION = "quality.VerdictQuality.track_confusion"
VERDICT_F1 = ("quality.VerdictQuality.track_class_f1", "quality.VerdictQuality.track_macro_f1")
NLI_F1 = ("nli.NliQuality.track_held_out_class_f1", "nli.NliQuality.track_held_out_macro_f1")
VERDICT_ORDER = ("supported", "refuted", "not_enough_info")


def param_value(raw: str) -> str:
    """asv stores a string parameter as its repr (`'refuted'`); the bare value."""
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw
    return value if isinstance(value, str) else raw


def confusion_cells(results: Sequence[BenchmarkResult]) -> dict[tuple[str, str], int]:
    """(gold, predicted) -> count from one commit's results; empty when the commit has none."""
    return {
        (param_value(r.params[0]), param_value(r.params[1])): int(r.value)  # type: ignore[arg-type]
        for r in results
        if r.benchmark == CONFUSION and r.ok and len(r.params) == 2
    }


def f1_scores(results: Sequence[BenchmarkResult], names: tuple[str, str]) -> dict[str, float]:
    """Class -> F1 (and "macro" -> macro-F1) from one commit's results for (per-class, macro) benchmarks."""
    per_class, macro = names
    scores: dict[str, float] = {}
    for r in results:
        if not r.ok or r.value is None:
            continue
        if r.benchmark == per_class and r.params:
            scores[param_value(r.params[0])] = float(r.value)
        elif r.benchmark == macro:
            scores["macro"] = float(r.value)
    return scores


def _ordered(labels: set[str]) -> list[str]:
    known = [v for v in VERDICT_ORDER if v in labels]
    return known + sorted(labels - set(known))


def confusion_table(cells: dict[tuple[str, str], int]) -> str:
    """The matrix as an HTML table, each cell shaded by its share of its gold row (the row's recall)."""
    if not cells:
        return "<p>No confusion matrix on this commit (quality.VerdictQuality did not run).</p>"
    esc = html.escape
    labels = _ordered({g for g, _ in cells} | {p for _, p in cells})
    head = "".join(f"<th>{esc(p)}</th>" for p in labels)
    rows = []
    for gold in labels:
        total = sum(cells.get((gold, p), 0) for p in labels) or 1
        tds = []
        for predicted in labels:
            count = cells.get((gold, predicted), 0)
            share = count / total
            # Right answers in blue, wrong ones in red; the deeper, the larger the share of the row.
            hue = 210 if gold == predicted else 0
            style = f"background:hsl({hue},70%,{round(97 - 45 * share)}%)"
            tds.append(f"<td style='{style}' title='{share:.0%} of gold {esc(gold)}'>{count}</td>")
        rows.append(f"<tr><th>{esc(gold)}</th>{''.join(tds)}</tr>")
    return (
        "<table class='confusion'><thead><tr><th>gold \\ predicted</th>"
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def f1_table(latest: dict[str, float], previous: dict[str, float]) -> str:
    """F1 per class and macro-F1, latest beside previous, the change flagged where F1 fell by 0.02 or more."""
    if not latest:
        return "<p>No F1 figures on this commit.</p>"
    esc = html.escape
    rows = []
    for label in [*_ordered(set(latest) - {"macro"}), "macro"]:
        if label not in latest:
            continue
        now, before = latest[label], previous.get(label)
        change = "" if before is None else f"{now - before:+.3f}"
        fell = before is not None and now - before <= -0.02
        rows.append(
            f"<tr class='{'fell' if fell else ''}'><td>{esc(label)}</td><td>{now:.3f}</td>"
            f"<td>{'' if before is None else f'{before:.3f}'}</td><td>{change}</td></tr>"
        )
    return (
        "<table><thead><tr><th>class</th><th>F1</th><th>previous</th><th>change</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def quality_to_html(
    results: Sequence[BenchmarkResult],
    commit: str | None,
    project: str,
    previous: Sequence[BenchmarkResult] = (),
    previous_commit: str | None = None,
) -> str:
    """The page html/quality.html for one machine: `results` of the latest commit, `previous` of the one before."""
    esc = html.escape
    against = f" against <code>{esc(short_commit(previous_commit))}</code>" if previous_commit else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(project)} quality</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;margin-bottom:1.5em}}
td,th{{border:1px solid #ccc;padding:.3em .8em;text-align:right}}th{{background:#f4f4f4}}
table.confusion td{{min-width:4em;text-align:center}}tr.fell{{background:#fdd}}</style>
</head><body><h1>{esc(project)} quality</h1>
<p>Latest commit: <code>{esc(short_commit(commit))}</code>{against}.
<a href="index.html">Back to the benchmarks</a>.</p>
<h2>Verdicts on the shipped claims: confusion matrix</h2>
<p>Rows are the gold verdicts, columns the pipeline's; blue cells are right, red ones wrong, the deeper the larger
their share of the row.</p>
{confusion_table(confusion_cells(results))}
<h2>Verdict F1</h2>
{f1_table(f1_scores(results, VERDICT_F1), f1_scores(previous, VERDICT_F1))}
<h2>NLI F1 on the held-out pairs</h2>
{f1_table(f1_scores(results, NLI_F1), f1_scores(previous, NLI_F1))}
</body></html>
"""
