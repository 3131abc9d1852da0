"""Machine drift: the machine itself ran slower or faster on one side of a comparison.

Timings of two commits measured at different times compare the code only if the machine ran at
the same speed both times, and a shared VM does not: on the development VM the code-independent
1-thread matmul rate read 93.6 GFLOP/s at one commit and 78.6 GFLOP/s at the next, a day later,
and `veracity regressions` listed 265 regressions (the pipeline's p95 past its 60 ms target among
them) between two commits that did not touch the code measured.

Yardsticks are benchmarks that measure the machine and not the code, declared beside them with
`direction.machine_yardstick`. They are judged like any benchmark (their band, or the policy's
minimum change). When one moved, every speed-dependent change in the same direction (machine
slower: timings worse, throughput lower) is marked as possibly the machine's, and reports name the
side-by-side re-measurement that settles it: `veracity continuous`, which measures both commits in
one asv run with interleaved rounds. Verdicts and exit codes are left as they are: a real
regression that lands on a slow day must not pass unseen, and a yardstick sees only the kind of
work it does (a matmul rate does not follow memory-bound latency one to one).

Yardsticks themselves are never reported as regressions or improvements: no commit can cause them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from veracity.tracking.detect import Comparison, Policy, Verdict, compare_results
from veracity.tracking.direction import YARDSTICK_MARK, is_yardstick
from veracity.tracking.noise import NoiseFile
from veracity.tracking.results import BenchmarkInfo, BenchmarkResult, benchmark_info

_TIME_UNITS = frozenset({"seconds", "ms", "µs", "us", "ns"})

# A yardstick is one value per commit from one process, and one process can read a machine unlike
# the next: over 8 fresh processes on the development VM the matmul rate read 80.2-95.2 GFLOP/s and
# the random-read rate 94.0-101.4 M/s (one more at 71.4). So drift is declared only past 10%, or
# past the yardstick's calibrated band where that is wider; the day-to-day moves it is for were
# larger (matmul -16% between two days).
DRIFT_POLICY = Policy(min_change=0.10, calibrated_floor=0.10)


@dataclass(frozen=True)
class MachineDrift:
    """One yardstick that moved past its threshold between the two sides."""

    yardstick: str  # the yardstick's key
    unit: str  # without the yardstick mark
    before: float
    after: float
    slower: bool  # the machine ran slower on the `after` side

    @property
    def ratio(self) -> float:
        return self.after / self.before

    def to_json(self) -> dict:
        return {
            "yardstick": self.yardstick,
            "unit": self.unit,
            "before": self.before,
            "after": self.after,
            "ratio": self.ratio,
            "machine": "slower" if self.slower else "faster",
        }


def is_yardstick_result(result: BenchmarkResult, benchmarks: dict[str, BenchmarkInfo]) -> bool:
    return is_yardstick(benchmark_info(benchmarks, result.benchmark).unit)


def measures_speed(unit: str) -> bool:
    """Whether a benchmark's value follows the machine's speed: times, latencies, rates (x/s).

    Bytes, recall, accuracy and ratios of two timings taken together do not.
    """
    return not is_yardstick(unit) and (unit in _TIME_UNITS or unit.endswith("/s"))


def machine_drift(
    before: Iterable[BenchmarkResult],
    after: Iterable[BenchmarkResult],
    *,
    benchmarks: dict[str, BenchmarkInfo],
    noise: NoiseFile | None,
    machine: str,
    policy: Policy = DRIFT_POLICY,
    paired: bool = False,
) -> list[MachineDrift]:
    """The yardsticks that moved past their threshold (see DRIFT_POLICY) from `before` to `after`."""
    rows = compare_results(
        [r for r in before if is_yardstick_result(r, benchmarks)],
        [r for r in after if is_yardstick_result(r, benchmarks)],
        benchmarks=benchmarks,
        noise=noise,
        machine=machine,
        policy=policy,
        final=True,
        paired=paired,
    )
    return [_drift(row) for row in rows if row.verdict in (Verdict.WORSE, Verdict.BETTER)]


def _drift(row: Comparison) -> MachineDrift:
    assert row.before is not None and row.after is not None
    unit = row.unit.replace(YARDSTICK_MARK, "")
    return MachineDrift(row.key, unit, row.before, row.after, slower=row.verdict is Verdict.WORSE)


def drift_behind(unit: str, verdict: Verdict, drifts: Sequence[MachineDrift]) -> MachineDrift | None:
    """The drift that could account for a change of this benchmark, if any: a speed-dependent
    benchmark that got worse while the machine got slower, or better while it got faster."""
    if not drifts or not measures_speed(unit) or verdict not in (Verdict.WORSE, Verdict.BETTER):
        return None
    return next((d for d in drifts if d.slower == (verdict is Verdict.WORSE)), None)


def without_yardsticks(
    results: Iterable[BenchmarkResult], benchmarks: dict[str, BenchmarkInfo]
) -> list[BenchmarkResult]:
    return [r for r in results if not is_yardstick_result(r, benchmarks)]
