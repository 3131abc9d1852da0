"""Re-measuring grey (inconclusive) verdicts: the loop `veracity continuous` and `veracity compare` share.

Each batch re-measures only the benchmarks still grey and judges again; the last judgement is final
(a change then counts only past its floor), so no verdict stays grey when the batches run out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from veracity.tracking.detect import Comparison, Verdict

Judge = Callable[[bool], list[Comparison]]
# (grey benchmark keys, the batch's number from 1) -> False when nothing could be re-measured
Remeasure = Callable[[list[str], int], bool]


def rerun_grey(
    rows: Sequence[Comparison], batches: int, judge: Judge, remeasure: Remeasure
) -> tuple[list[Comparison], int]:
    """Up to `batches` re-measurements of the grey rows; returns the final rows and the batches run."""
    rows, done = list(rows), 0
    while done < batches:
        grey = sorted({r.key for r in rows if r.verdict is Verdict.GREY})
        if not grey or not remeasure(grey, done + 1):
            break
        done += 1
        rows = judge(done >= batches)
    if any(r.verdict is Verdict.GREY for r in rows):
        rows = judge(True)
    return rows, done
