"""Direction- and noise-aware judgement of one benchmark between a baseline and a candidate.

A change is flagged only when it is (1) in the bad direction for the benchmark (a drop for
higher-is-better, a rise otherwise), (2) larger than both the policy's minimum change and the
calibrated noise band, and (3) significant by Mann-Whitney U when both sides have samples.
Benchmarks without samples (track_*) are judged by ratio against the band. Results near a
calibrated band on either side (within `grey_factor` of it, significant or not), or past it but
not yet significant, are GREY: worth re-running before a verdict. Significance alone does not
settle a result near the band, because the samples of one asv run share that run's speed: an
A/A pair differs by a few percent with p < 0.001 (the issue 5 campaigns).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Self

from veracity.tracking.noise import NoiseFile
from veracity.tracking.results import BenchmarkInfo, BenchmarkResult, benchmark_info
from veracity.tracking.stats import mann_whitney_p, median


class Verdict(enum.StrEnum):
    WORSE = "worse"
    BETTER = "better"
    UNCHANGED = "unchanged"
    GREY = "grey"
    FAILED = "failed"  # ran before, fails now
    FIXED = "fixed"  # failed before, runs now
    BROKEN = "broken"  # fails on both sides: still broken, never "unchanged"
    DESCRIPTIVE = "descriptive"  # a figure with no better side (a stage's share): shown, never judged
    INCOMPARABLE = "incomparable"  # benchmark code changed, or skipped on one side, or missing
    # Too few commits on this machine to know its noise, and no calibrated band: neither flagged nor
    # passed, listed apart (tracking.history); it does not fail CI.
    NOT_ENOUGH_HISTORY = "not enough history"

    @property
    def is_change(self) -> bool:
        return self in (Verdict.WORSE, Verdict.BETTER, Verdict.FAILED, Verdict.FIXED)

    @property
    def is_worse(self) -> bool:
        """Worse or failed: a regression, which fails CI unless accepted."""
        return self in (Verdict.WORSE, Verdict.FAILED)


@dataclass(frozen=True)
class Policy:
    """Knobs of detection.

    `min_change` is the threshold where no band was calibrated. Where one was, the threshold is
    that band, floored at `calibrated_floor`: a band measured on this machine is a better guide
    than a blanket 5%, but a band of 1% from a few quiet A/A runs understates rare disturbances.
    3% was chosen on the campaign of bcb59f3 (0 A/A false flags over 24 pairs at 3%, one at 2%)
    and confirmed by an independent campaign (see the issue 5 note). Both are for one run against
    one run; see `judge` for pooled re-runs.

    `grey_factor`: while re-runs remain, a calibrated benchmark within this factor of its
    threshold, on either side, is GREY (re-run) rather than judged.
    """

    min_change: float = 0.05
    calibrated_floor: float = 0.03
    alpha: float = 0.05
    grey_factor: float = 1.5
    min_samples: int = 5


@dataclass(frozen=True)
class Observation:
    """What is known of one side: its value and, if recorded, its samples (or one value per run)."""

    value: float | None
    samples: tuple[float, ...] | None = None

    @classmethod
    def pooled(cls, results: Sequence[BenchmarkResult]) -> Observation:
        """Pool several results of one benchmark: samples concatenated, else one value per result."""
        ok = [r for r in results if r.ok]
        if not ok:
            failed = any(r.value is None for r in results)
            return cls(None if failed else math.nan)
        samples = [s for r in ok if r.samples for s in r.samples]
        if samples and all(r.samples for r in ok):
            return cls(median(samples), tuple(samples))
        values = tuple(r.value for r in ok if r.value is not None)
        return cls(median(values), values if len(values) > 1 else None)


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    ratio: float | None  # after / before
    p_value: float | None
    threshold: float


# Where no ratio can be taken (a side at zero, or the sign flipped), a change is judged by its
# difference, and these are the smallest differences that count, per plain unit. Bytes: memory
# by phase is RSS sampled in whole MiB by memory-profiler, and a warmed phase often reads 0, so a
# step below 1 MiB is the sampling grain, not a change. Seconds: 1 ms, far above asv's timer
# resolution and below any stage's per-call time. Ratios and fractions (recall, accuracy, shares):
# one point in a hundred. A unit without a floor stays incomparable at zero, as before.
ABSOLUTE_FLOORS: dict[str, float] = {
    "bytes": float(2**20),
    "seconds": 1e-3,
    "ratio": 0.01,
    "fraction": 0.01,
    # QPS at a recall is 0 where no configuration reaches the recall (benchmarks/vector_frontier.py).
    "queries/s": 1.0,
}

# Where a noise band is known, the threshold is the band floored at `Policy.calibrated_floor` (3%), or
# at this floor for the units listed here when it is lower. Instructions (callgrind) are a work count,
# not a time: the same code counts the same work to well under 1%, so 3% would hide real changes.
UNIT_FLOORS: dict[str, float] = {"instructions": 0.01}


def band_floor(policy: Policy, unit: str) -> float:
    """The smallest threshold a known band gives for `unit`: the policy's floor, or the unit's if lower."""
    return min(policy.calibrated_floor, UNIT_FLOORS.get(unit, policy.calibrated_floor))


def ratio_undefined(before: float, after: float) -> bool:
    """Whether no ratio can be taken between two finite values (a side at zero, or the sign flipped):
    such a change is judged by its difference against the unit's floor (ABSOLUTE_FLOORS), not by noise."""
    return before == 0 or after == 0 or (after < 0) != (before < 0)


def badness(before: float, after: float, higher_is_better: bool) -> float:
    """Relative worsening from before to after: +0.10 is 10% worse, -0.10 is 10% better.

    Computed as a ratio in the bad direction so that a 20% throughput drop (1000 -> 800) reads as
    +25% worse, the same as the time per item rising 25%.
    """
    ratio = after / before
    if higher_is_better:
        return math.inf if ratio == 0 else 1 / ratio - 1  # a ratio that underflows to 0 is a total loss
    return ratio - 1


def judge(
    before: Observation,
    after: Observation,
    *,
    higher_is_better: bool,
    band: float | None,
    policy: Policy = Policy(),
    final: bool = True,
    runs: int = 1,
    unit: str = "",
) -> Judgement:
    """Judge one benchmark. With `final`, GREY is resolved (no more re-runs are coming).

    `unit` (the plain unit, without direction marks) sets the absolute floor a change is judged
    against where one side is zero (see ABSOLUTE_FLOORS): a memory phase from 0 to 200 MB is worse.

    `runs`: how many asv runs each side pools (the re-runs of a grey result, which settle it without
    the run that made it grey; see workflow._Pools). A calibrated threshold (band and floor) is for
    one run against one run; the run-to-run noise it stands for averages down as runs are pooled,
    so it is divided by sqrt(runs). Without that a re-run could only ever confirm a change well past
    the band: a real 5% change against a 4% band was lost on re-run as often as not. Where no band
    was calibrated, `min_change` is a blanket guess, not a noise figure, and is not divided.
    """
    calibrated = band is not None
    if band is None and unit in UNIT_FLOORS:
        # A count that repeats (instructions repeat within 0.15% A/A): its own floor, not a blanket guess.
        threshold = UNIT_FLOORS[unit]
    elif band is None:
        threshold = policy.min_change
    else:
        threshold = max(band_floor(policy, unit), band) / math.sqrt(max(1, runs))
    b, a = before.value, after.value
    if b is None and a is None:
        return Judgement(Verdict.BROKEN, None, None, threshold)
    if b is not None and a is None:
        return Judgement(Verdict.FAILED, None, None, threshold)
    if b is None and a is not None:
        return Judgement(Verdict.FIXED, None, None, threshold)
    assert a is not None and b is not None
    if not math.isfinite(a) or not math.isfinite(b):
        return Judgement(Verdict.INCOMPARABLE, None, None, threshold)
    if ratio_undefined(b, a):
        return _judge_difference(b, a, higher_is_better=higher_is_better, unit=unit, threshold=threshold)
    ratio = a / b
    bad = badness(b, a, higher_is_better)
    size = abs(bad)
    direction = Verdict.WORSE if bad > 0 else Verdict.BETTER
    if size <= threshold:
        # Just inside a calibrated threshold: a re-run may show it past.
        if calibrated and not final and size > threshold / policy.grey_factor:
            return Judgement(Verdict.GREY, ratio, None, threshold)
        return Judgement(Verdict.UNCHANGED, ratio, None, threshold)
    both_sampled = (
        before.samples is not None
        and after.samples is not None
        and min(len(before.samples), len(after.samples)) >= policy.min_samples
    )
    near_the_band = size <= threshold * policy.grey_factor
    if both_sampled:
        assert before.samples is not None and after.samples is not None
        p = mann_whitney_p(before.samples, after.samples)
        if p < policy.alpha:
            # The samples of one run share that process's speed, so a significant p says little about
            # a shift of the band's size between processes: just past the band, another run decides.
            if near_the_band and not final:
                return Judgement(Verdict.GREY, ratio, p, threshold)
            return Judgement(direction, ratio, p, threshold)
        # Past the band but not significant: more samples may settle it; if none come, it is not shown to be real.
        return Judgement(Verdict.UNCHANGED if final else Verdict.GREY, ratio, p, threshold)
    if near_the_band and not final:
        return Judgement(Verdict.GREY, ratio, None, threshold)
    return Judgement(direction, ratio, None, threshold)


def _judge_difference(b: float, a: float, *, higher_is_better: bool, unit: str, threshold: float) -> Judgement:
    """Judge by the difference against the unit's absolute floor, where a ratio cannot be taken."""
    floor = ABSOLUTE_FLOORS.get(unit)
    if floor is None:
        return Judgement(Verdict.INCOMPARABLE, None, None, threshold)
    ratio = a / b if b else None
    rise = a - b
    if abs(rise) <= floor:
        return Judgement(Verdict.UNCHANGED, ratio, None, threshold)
    worse = rise < 0 if higher_is_better else rise > 0
    return Judgement(Verdict.WORSE if worse else Verdict.BETTER, ratio, None, threshold)


def past_by_more_than(before: float, after: float, *, higher_is_better: bool, threshold: float, unit: str) -> bool:
    """Whether `after` is worse than `before` by more than `threshold`, as `judge` decides it for two values
    without samples: by ratio, or by difference against the unit's floor where no ratio can be taken."""
    if not math.isfinite(before) or not math.isfinite(after):
        return False
    if ratio_undefined(before, after):
        judged = _judge_difference(before, after, higher_is_better=higher_is_better, unit=unit, threshold=threshold)
        return judged.verdict is Verdict.WORSE
    return badness(before, after, higher_is_better) > threshold


@dataclass(frozen=True)
class Comparison:
    """One benchmark (one parameter combination) judged between two commits."""

    key: str
    benchmark: str
    params: tuple[tuple[str, str], ...]
    unit: str
    higher_is_better: bool
    env_name: str
    before: float | None
    after: float | None
    ratio: float | None
    p_value: float | None
    threshold: float
    verdict: Verdict
    # Where the threshold's noise figure came from, in words (tracking.noise.NoiseFigure.source).
    noise_source: str = field(default="", kw_only=True)

    @classmethod
    def judged(
        cls,
        result: BenchmarkResult,
        info: BenchmarkInfo,
        before: Observation,
        after: Observation,
        judgement: Judgement,
        **more: Any,
    ) -> Self:
        """The record of `result`'s benchmark judged from `before` to `after` (`more`: a subclass's own fields)."""
        return cls(
            key=result.key,
            benchmark=result.benchmark,
            params=tuple(zip(info.param_names, result.params, strict=False)),
            unit=info.unit,
            higher_is_better=info.higher_is_better,
            env_name=result.env_name,
            before=before.value,
            after=after.value,
            ratio=judgement.ratio,
            p_value=judgement.p_value,
            threshold=judgement.threshold,
            verdict=judgement.verdict,
            **more,
        )


def blanket_source(policy: Policy, unit: str = "") -> str:
    """The source of a threshold where no noise figure is known for the machine."""
    if unit in UNIT_FLOORS:
        return f"a count that repeats: its {UNIT_FLOORS[unit]:.0%} floor"
    return f"no noise figure for this machine: blanket {policy.min_change:.0%}"


def _group(results: Iterable[BenchmarkResult]) -> dict[tuple[str, str], list[BenchmarkResult]]:
    out: dict[tuple[str, str], list[BenchmarkResult]] = {}
    for r in results:
        out.setdefault((r.env_name, r.key), []).append(r)
    return out


def compare_results(
    before: Iterable[BenchmarkResult],
    after: Iterable[BenchmarkResult],
    *,
    benchmarks: dict[str, BenchmarkInfo],
    noise: NoiseFile | None,
    machine: str,
    policy: Policy = Policy(),
    final: bool = True,
    paired: bool = False,
    runs: Mapping[str, int] | None = None,
) -> list[Comparison]:
    """Judge every benchmark present on either side (pooling repeated results of one side).

    `runs`: per benchmark key, the asv runs pooled on the side that has fewer (the re-runs of a
    grey result; 1 where absent), see `judge`.

    `paired`: both sides were measured in one asv run with interleaved rounds (asv continuous),
    so the paired band applies where one was calibrated; otherwise the across-runs band.
    """
    groups_b, groups_a = _group(before), _group(after)
    out = []
    for env_name, key in sorted(set(groups_b) | set(groups_a)):
        rb, ra = groups_b.get((env_name, key), []), groups_a.get((env_name, key), [])
        sample = (rb or ra)[0]
        info = benchmark_info(benchmarks, sample.benchmark)
        figure = noise.noise_for(machine, key, paired=paired) if noise else None
        versions = {r.version for r in rb + ra if r.version}
        ob, oa = Observation.pooled(rb), Observation.pooled(ra)
        if not rb or not ra or len(versions) > 1:
            judgement = Judgement(Verdict.INCOMPARABLE, None, None, policy.min_change)
        elif info.descriptive:
            ratio = oa.value / ob.value if ob.value and oa.value is not None else None
            judgement = Judgement(Verdict.DESCRIPTIVE, ratio, None, policy.min_change)
        else:
            judgement = judge(
                ob,
                oa,
                higher_is_better=info.higher_is_better,
                band=figure.band if figure else None,
                policy=policy,
                final=final,
                runs=(runs or {}).get(key, 1),
                unit=info.plain_unit,
            )
        source = figure.source if figure else blanket_source(policy, info.plain_unit)
        out.append(Comparison.judged(sample, info, ob, oa, judgement, noise_source=source))
    return out
