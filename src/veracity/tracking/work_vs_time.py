"""Did the work move where the time did? A stage's time change read beside its instruction count.

The suite counts each stage's instructions under callgrind (benchmarks/work.py), which repeat to a
fraction of a percent whatever the machine does. A time (or rate) of a stage that moved while the
same stage's work did not is most likely the machine ("time +12%, work unchanged: likely machine
noise"); one whose work moved too is the code ("work +6%"). Counts cannot see memory bandwidth,
cache misses, threads or waits, so this is a hint beside the verdict, never a verdict itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from veracity.tracking.drift import measures_speed
from veracity.tracking.results import BenchmarkResult
from veracity.tracking.stats import median

# Instructions repeat within 0.5% A/A (issue 18): a change under 1% is not a change of work.
WORK_FLOOR = 0.01
STAGES = ("embedding", "nli", "vector_search", "pipeline")
WORK_MODULE = "work."


def stage_of(key: str) -> str | None:
    """The pipeline stage a benchmark of the suite times (its module), or None."""
    module = key.split(".", 1)[0]
    return module if module in STAGES else None


def work_keys(stage: str) -> tuple[str, ...]:
    """The work counts of `stage`: the client's instructions and, where the stage searches, the server's."""
    return (f"work.WorkCounts.track_{stage}_instructions", f"work.WorkCounts.track_{stage}_server_instructions")


@dataclass(frozen=True)
class WorkCheck:
    stage: str
    ratio: float  # work after / before: the largest move among the stage's counts

    @property
    def moved(self) -> bool:
        return abs(self.ratio - 1.0) >= WORK_FLOOR

    def describe(self) -> str:
        if self.moved:
            return f"work {self.ratio - 1.0:+.1%}"
        return f"work unchanged ({self.ratio - 1.0:+.2%}): likely machine noise"

    def to_json(self) -> dict:
        return {"stage": self.stage, "ratio": self.ratio, "moved": self.moved, "said": self.describe()}


def _level(results: Sequence[BenchmarkResult], key: str) -> float | None:
    values = [r.value for r in results if r.key == key and r.ok and r.value]
    return median(values) if values else None


def check_work(
    key: str, unit: str, before: Sequence[BenchmarkResult], after: Sequence[BenchmarkResult]
) -> WorkCheck | None:
    """How the work of `key`'s stage moved between the results `before` and `after`, when `key` is a
    time or a rate of a stage and that stage's work was counted on both sides; else None."""
    stage = stage_of(key)
    if stage is None or key.startswith(WORK_MODULE) or not measures_speed(unit):
        return None
    ratios = []
    for work_key in work_keys(stage):
        b, a = _level(before, work_key), _level(after, work_key)
        if b and a:
            ratios.append(a / b)
    if not ratios:
        return None
    return WorkCheck(stage, max(ratios, key=lambda r: abs(r - 1.0)))
