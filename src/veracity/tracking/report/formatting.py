"""What every report shares: values in human units, Markdown made safe, machine-drift notes."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from veracity.tracking.detect import Comparison
from veracity.tracking.drift import MachineDrift

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


def short_commit(commit: str | None) -> str:
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
    commands = dict.fromkeys(
        f"veracity continuous {short_commit(good)} {short_commit(latest)}" for _, good, latest in pairs
    )
    return [
        f"{affected} change(s) marked '{DRIFT_TAG}' may be the machine, not the code: "
        + "; ".join(drift_sentence(d) for d in drifts)
        + ". Re-measure both commits side by side: "
        + ", ".join(commands)
    ]


def noise_sources(rows: Sequence[Comparison]) -> str:
    """Where the rows' noise figures came from, most common first: `3 band calibrated on this machine; 1 ...`."""
    counts = Counter(r.noise_source for r in rows if r.noise_source)
    return "; ".join(f"{n} {source}" for source, n in counts.most_common())
