"""Verdicts from the noise measured inside one run: two commits' interleaved rounds, judged on their paired ratios.

Each round measures both commits one after the other (the order alternating from round to round,
A B, B A, A B ..., so a machine that speeds up or slows down within a round favours neither), and
gives one paired log-ratio of the round's values, signed so that positive is worse. Their mean is
the change; the spread between rounds is the noise of this very run, so no band calibrated on
another day (or another machine) is needed. The verdict is read off the t-interval of the mean:

- worse when the whole interval lies past the floor in the bad direction, better when past it in
  the good one; unchanged when it lies wholly inside the floor;
- otherwise inconclusive (grey): more rounds narrow the interval; when no more are coming, the
  change counts when its estimate is past the floor and the interval excludes no change.

The floor is the smallest change worth a verdict (`Policy.calibrated_floor`): an interval far
narrower than it still does not make a 1% change a regression.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from veracity.tracking.detect import ABSOLUTE_FLOORS, Judgement, Verdict
from veracity.tracking.stats import mean_interval

CONFIDENCE = 0.95


@dataclass(frozen=True)
class InRunNoise:
    """The noise of one comparison as measured in its own run: rounds paired, and the interval's half-width."""

    rounds: int
    half_width: float  # relative: 0.021 is ±2.1% on the ratio
    confidence: float = CONFIDENCE

    @property
    def source(self) -> str:
        """In words, for every report: `in-run: 6 interleaved rounds, ±2.1% (95%)`."""
        return f"in-run: {self.rounds} interleaved rounds, ±{self.half_width * 100:.1f}% ({self.confidence:.0%})"

    @classmethod
    def from_source(cls, source: str) -> InRunNoise | None:
        """The figure back from its words (reports group rows by it); None for any other noise source."""
        found = _SOURCE.fullmatch(source)
        if not found:
            return None
        return cls(
            int(found["rounds"]), round(float(found["half"]) / 100, 6), round(float(found["confidence"]) / 100, 6)
        )


_SOURCE = re.compile(r"in-run: (?P<rounds>\d+) interleaved rounds, ±(?P<half>[\d.]+)% \((?P<confidence>\d+)%\)")


def paired_badness(
    base: Sequence[float | None],
    head: Sequence[float | None],
    *,
    higher_is_better: bool,
    zero_floor: float | None = None,
) -> list[float]:
    """Per round, log(head / base) signed so that positive is worse; rounds where either side has no
    positive value (failed, skipped, zero) are left out.

    With `zero_floor` (the unit's absolute floor, detect.ABSOLUTE_FLOORS), a value from 0 up to the
    floor counts as the floor instead of leaving its round out: QPS at a recall is 0 in a round where
    no configuration reached the recall, and those rounds are the evidence that a build lost it;
    left out, a commit that reached the recall in 2 rounds of 6 was judged on those 2 alone.
    """
    out = []
    for b, a in zip(base, head, strict=False):
        if b is None or a is None or not (math.isfinite(b) and math.isfinite(a)):
            continue
        if zero_floor is not None and b >= 0 and a >= 0:
            b, a = max(b, zero_floor), max(a, zero_floor)
        if b <= 0 or a <= 0:
            continue
        d = math.log(a / b)
        out.append(-d if higher_is_better else d)
    return out


def judge_rounds(
    base: Sequence[float | None],
    head: Sequence[float | None],
    *,
    higher_is_better: bool,
    floor: float,
    final: bool,
    confidence: float = CONFIDENCE,
    unit: str = "",
) -> tuple[Judgement, InRunNoise] | None:
    """Judge `head` against `base` from their values round by round (index i: round i of both).

    None where fewer than two rounds can be paired (a positive value on both sides, or for a unit
    with an absolute floor one of at least 0): no spread can be measured, and the caller judges
    the pooled values as it always did. `unit` (plain, without
    direction marks) sets the floor a zero counts as (see `paired_badness`).
    """
    d = paired_badness(base, head, higher_is_better=higher_is_better, zero_floor=ABSOLUTE_FLOORS.get(unit))
    if len(d) < 2:
        return None
    mean, half, p = mean_interval(d, confidence)
    line = math.log1p(floor)
    low, high = mean - half, mean + half
    if low > line:
        verdict = Verdict.WORSE
    elif high < -line:
        verdict = Verdict.BETTER
    elif -line <= low and high <= line:
        verdict = Verdict.UNCHANGED
    elif not final:
        verdict = Verdict.GREY
    elif mean > line and low > 0:
        verdict = Verdict.WORSE
    elif mean < -line and high < 0:
        verdict = Verdict.BETTER
    else:
        verdict = Verdict.UNCHANGED
    ratio = math.exp(-mean if higher_is_better else mean)  # after / before, the geometric mean of the rounds
    return Judgement(verdict, ratio, p, floor), InRunNoise(len(d), math.expm1(half), confidence)
