"""The open regressions of the latest commit: text, Markdown (pull-request comments) and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from veracity.tracking.detect import Comparison, Verdict
from veracity.tracking.history import Regression
from veracity.tracking.noise import MIN_HISTORY
from veracity.tracking.report.formatting import (
    DRIFT_TAG,
    _drift_notes,
    _finite,
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
from veracity.tracking.triage_review import TriageReview, TriageState


def change_fields(r: Comparison) -> dict:
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
        "noise_source": r.noise_source,
    }


def work_said(r: Regression) -> str:
    """'time +12%, work unchanged: likely machine noise' or 'time +8%, work +6%' (tracking.work_vs_time)."""
    if r.work is None:
        return ""
    what = "time" if r.unit.split(" ")[0] in ("seconds", "s") else "rate"
    change = "" if r.ratio is None else f"{what} {r.ratio - 1.0:+.0%}, "
    return change + r.work.describe()


def regression_range(r: Regression) -> str:
    if r.good_commit is None:
        return short_commit(r.first_bad_commit)
    return f"{short_commit(r.good_commit)}..{short_commit(r.first_bad_commit)}"


def _regression_json(r: Regression) -> dict:
    return {
        **change_fields(r),
        "machine": r.machine,
        "good_commit": r.good_commit,
        "first_bad_commit": r.first_bad_commit,
        "latest_commit": r.latest_commit,
        "accepted": None
        if r.accepted is None
        else {"reason": r.accepted.reason, "expires": r.accepted.expires.isoformat()},
        "machine_drift": None if r.machine_drift is None else r.machine_drift.to_json(),
        "work": None if r.work is None else r.work.to_json(),
    }


def regressions_to_json(regressions: Sequence[Regression], triage: Sequence[TriageReview] = ()) -> str:
    regressions, waiting = split_waiting(regressions)
    rows = [_regression_json(r) for r in regressions]
    failing = sum(r.fails_ci for r in regressions)
    broken = sum(r.verdict is Verdict.BROKEN for r in regressions)
    drifted = sum(r.machine_drift is not None for r in regressions)
    return json.dumps(
        {
            "regressions": rows,
            "failing": failing,
            "accepted": len(rows) - failing - broken,
            "broken": broken,
            "machine_drift": drifted,
            "not_enough_history": {
                "count": len(waiting),
                "need_commits": MIN_HISTORY,
                "benchmarks": [
                    {k: v for k, v in _regression_json(r).items() if k not in ("accepted", "machine_drift", "work")}
                    for r in waiting
                ],
            },
            "triage": [t.to_json() for t in triage],
        },
        indent=2,
    )


def split_waiting(regressions: Sequence[Regression]) -> tuple[list[Regression], list[Regression]]:
    """(rows judged, rows with not enough history yet): the second are neither regressions nor passes."""
    waiting = [r for r in regressions if r.verdict is Verdict.NOT_ENOUGH_HISTORY]
    return [r for r in regressions if r.verdict is not Verdict.NOT_ENOUGH_HISTORY], waiting


def waiting_sentence(waiting: Sequence[Regression]) -> str:
    """The count of benchmarks not judged yet, and what they need: one line for the text and Markdown reports."""
    return (
        f"not enough history yet: {len(waiting)} benchmark(s), need {MIN_HISTORY} commits measured on this machine"
        " before a change, or a band from make calibrate; neither flagged nor passed"
    )


def _regression_drift_notes(regressions: Sequence[Regression]) -> list[str]:
    drifted = [r for r in regressions if r.machine_drift is not None]
    pairs = [(r.machine_drift, r.good_commit or r.first_bad_commit, r.latest_commit) for r in drifted]
    return _drift_notes(pairs, len(drifted))  # type: ignore[arg-type]


def _split_broken(regressions: Sequence[Regression]) -> tuple[list[Regression], list[Regression]]:
    """(regressions, benchmarks broken on every commit measured): the second are shown apart, never as fine."""
    broken = [r for r in regressions if r.verdict is Verdict.BROKEN]
    return [r for r in regressions if r.verdict is not Verdict.BROKEN], broken


def _triage_lines(triage: Sequence[TriageReview]) -> list[str]:
    """The entries that accept no row shown: in force (their regression stands, a later one is flagged apart),
    stale or expired, one line each; an accepting one is shown on the row it accepts. Those whose commit this
    machine never measured share one line: on a new machine every entry is one, and none asks for action."""
    lines = [
        f"triage entry {t.entry.benchmark} @ {t.entry.commit}: {t.state.value} ({t.detail})"
        for t in triage
        if t.state not in (TriageState.ACCEPTING, TriageState.NOT_HERE)
    ]
    elsewhere = [t for t in triage if t.state is TriageState.NOT_HERE]
    if elsewhere:
        commits = sorted({t.entry.commit for t in elsewhere})
        entries = "entry" if len(elsewhere) == 1 else "entries"
        named = f"commits {', '.join(commits)} are" if len(commits) > 1 else f"commit {commits[0]} is"
        lines.append(
            f"{len(elsewhere)} triage {entries} not measured here: {named} not in this machine's history,"
            " so they accept nothing on it"
        )
    return lines


def regressions_to_text(regressions: Sequence[Regression], triage: Sequence[TriageReview] = ()) -> str:
    regressions, waiting = split_waiting(regressions)
    regressions, broken = _split_broken(regressions)
    lines = []
    if regressions:
        lines.append(f"{len(regressions)} open regression(s) ({sum(r.fails_ci for r in regressions)} failing CI):")
        lines += [f"  note: {n}" for n in _regression_drift_notes(regressions)]
    else:
        lines.append("No open regressions" + (" among the benchmarks judged." if waiting else "."))
    for r in regressions:
        accepted = f"  [accepted until {r.accepted.expires}: {r.accepted.reason}]" if r.accepted else ""
        drift = f"  [{DRIFT_TAG}]" if r.machine_drift else ""
        work = f"  [{work_said(r)}]" if r.work else ""
        lines.append(
            f"  {r.key}  {format_value(r.before, r.unit)} -> {format_value(r.after, r.unit)}"
            f"  ratio {_ratio(r.ratio)} ({direction_word(r.higher_is_better)})"
            f"  commits {regression_range(r)}{accepted}{drift}{work}"
        )
    if regressions:
        lines.append(f"  noise figures: {noise_sources(regressions)}")
    if broken:
        lines.append(f"{len(broken)} benchmark(s) broken on every commit measured (fix them: nothing is measured):")
        lines += [f"  {r.key}  failing since {short_commit(r.first_bad_commit)} or earlier" for r in broken]
    if waiting:
        lines.append(waiting_sentence(waiting))
    lines += _triage_lines(triage)
    return "\n".join(lines)


def regressions_to_markdown(regressions: Sequence[Regression], triage: Sequence[TriageReview] = ()) -> str:
    regressions, waiting = split_waiting(regressions)
    regressions, broken = _split_broken(regressions)
    notes = [
        *([f"> ⏳ {_md_cell(waiting_sentence(waiting))}\n"] if waiting else []),
        *(
            f"> ⛔ {_md_code(r.key)} is broken on every commit measured"
            f" (failing since {short_commit(r.first_bad_commit)})\n"
            for r in broken
        ),
        *(f"> 🗂️ {_md_cell(line)}\n" for line in _triage_lines(triage)),
    ]
    if not regressions:
        head = f"**No open regressions{' among the benchmarks judged' if waiting else ''}.**\n"
        return head + ("\n" + "\n".join(notes) if notes else "")
    failing = sum(r.fails_ci for r in regressions)
    out = [
        f"**{len(regressions)} open regression(s)**, {failing} failing CI, {len(regressions) - failing} accepted.",
        "",
        f"Noise figures: {_md_cell(noise_sources(regressions))}.",
        "",
        *(f"> ⚠️ {_md_cell(n)}\n" for n in _regression_drift_notes(regressions)),
        *notes,
        "| Benchmark | Parameters | Unit | Direction | Before | After | Ratio | Commits | Status |",
        "|---|---|---|---|---:|---:|---:|---|---|",
    ]
    for r in regressions:
        status = f"accepted until {r.accepted.expires}: {r.accepted.reason}" if r.accepted else "❌ open"
        status += f" ({DRIFT_TAG})" if r.machine_drift else ""
        status += f" ({work_said(r)})" if r.work else ""
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
