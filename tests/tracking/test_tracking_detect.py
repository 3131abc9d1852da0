"""Detection: direction, noise band, significance and the grey zone, on hand-made observations."""

from __future__ import annotations

import pytest

from veracity.tracking.detect import Observation, Policy, Verdict, badness, compare_results, judge
from veracity.tracking.noise import NoiseBand, NoiseFile
from veracity.tracking.results import BenchmarkInfo, BenchmarkResult


def _obs(value: float, samples: list[float] | None = None) -> Observation:
    return Observation(value, tuple(samples) if samples else None)


def test_throughput_drop_is_worse_and_rise_is_better() -> None:
    assert judge(_obs(1000), _obs(800), higher_is_better=True, band=None).verdict is Verdict.WORSE
    assert judge(_obs(800), _obs(1000), higher_is_better=True, band=None).verdict is Verdict.BETTER


def test_time_rise_is_worse() -> None:
    assert judge(_obs(1.0), _obs(1.2), higher_is_better=False, band=None).verdict is Verdict.WORSE


def test_badness_is_symmetric_between_throughput_and_time_per_item() -> None:
    assert badness(1000, 800, higher_is_better=True) == pytest.approx(badness(1 / 1000, 1 / 800, False))


def test_change_inside_the_band_is_unchanged_even_if_significant() -> None:
    before = [1.00, 1.01, 1.00, 1.02, 1.01, 1.00, 1.01]
    after = [x * 1.08 for x in before]
    j = judge(_obs(1.01, before), _obs(1.09, after), higher_is_better=False, band=0.10)
    assert j.verdict is Verdict.UNCHANGED
    # The control: without the band the same 8% is past the blanket 5% and flagged, so the band decided.
    control = judge(_obs(1.01, before), _obs(1.09, after), higher_is_better=False, band=None)
    assert control.verdict is Verdict.WORSE


def test_change_past_the_band_and_significant_is_flagged() -> None:
    before = [1.00, 1.01, 1.00, 1.02, 1.01, 1.00, 1.01]
    after = [x * 1.2 for x in before]
    j = judge(_obs(1.01, before), _obs(1.21, after), higher_is_better=False, band=0.10)
    assert j.verdict is Verdict.WORSE
    assert j.p_value is not None and j.p_value < 0.01


def test_significant_but_just_past_the_band_is_grey_until_final() -> None:
    before = [1.00, 1.01, 1.00, 1.02, 1.01, 1.00, 1.01]
    kwargs = dict(higher_is_better=False, band=0.04)
    near = [x * 1.05 for x in before]  # 5% against a 4% band: inside 1.5 x the band
    assert judge(_obs(1.01, before), _obs(1.06, near), final=False, **kwargs).verdict is Verdict.GREY
    assert judge(_obs(1.01, before), _obs(1.06, near), final=True, **kwargs).verdict is Verdict.WORSE
    far = [x * 1.10 for x in before]
    assert judge(_obs(1.01, before), _obs(1.11, far), final=False, **kwargs).verdict is Verdict.WORSE


def test_pooled_runs_narrow_the_band_by_sqrt_runs_down_to_the_floor() -> None:
    before = [1.00, 1.01, 1.00, 1.02, 1.01, 1.00, 1.01]
    after = [x * 1.035 for x in before]  # 3.5% slower against a 4% one-run band
    kwargs = dict(higher_is_better=False, band=0.04)
    one = judge(_obs(1.01, before), _obs(1.045, after), runs=1, **kwargs)
    assert one.verdict is Verdict.UNCHANGED and one.threshold == 0.04
    two = judge(_obs(1.01, before), _obs(1.045, after), runs=2, **kwargs)
    assert two.verdict is Verdict.WORSE and two.threshold == pytest.approx(0.04 / 2**0.5)
    assert judge(_obs(1.0), _obs(1.1), band=0.16, runs=4, higher_is_better=False).threshold == pytest.approx(0.08)
    floored = judge(_obs(1.0), _obs(1.1), band=0.01, runs=4, higher_is_better=False)
    assert floored.threshold == pytest.approx(0.015)  # the 3% floor is for one run too
    no_band = judge(_obs(1.0), _obs(1.1), band=None, runs=4, higher_is_better=False)
    assert no_band.threshold == 0.05  # no band: min_change, as before


def test_just_inside_a_calibrated_band_is_grey_until_final_but_not_without_a_band() -> None:
    before = [1.00, 1.01, 1.00, 1.02, 1.01, 1.00, 1.01]
    after = [x * 1.035 for x in before]
    kwargs = dict(higher_is_better=False)
    assert judge(_obs(1.01, before), _obs(1.045, after), band=0.04, final=False, **kwargs).verdict is Verdict.GREY
    assert judge(_obs(1.01, before), _obs(1.045, after), band=0.04, final=True, **kwargs).verdict is Verdict.UNCHANGED
    assert judge(_obs(1.0), _obs(1.01), band=0.04, final=False, **kwargs).verdict is Verdict.UNCHANGED  # far inside
    assert judge(_obs(1.0), _obs(1.04), band=None, final=False, **kwargs).verdict is Verdict.UNCHANGED


def test_past_the_band_but_not_significant_is_grey_then_unchanged_when_final() -> None:
    before = [1.0, 1.5, 0.8, 1.3, 0.9]
    after = [1.2, 1.4, 0.9, 1.6, 1.1]
    kwargs = dict(higher_is_better=False, band=0.05)
    assert judge(_obs(1.0, before), _obs(1.2, after), final=False, **kwargs).verdict is Verdict.GREY
    assert judge(_obs(1.0, before), _obs(1.2, after), final=True, **kwargs).verdict is Verdict.UNCHANGED


def test_track_result_just_past_the_band_is_grey_until_final() -> None:
    kwargs = dict(higher_is_better=True, band=None, policy=Policy(min_change=0.05))
    assert judge(_obs(500), _obs(470), final=False, **kwargs).verdict is Verdict.GREY
    assert judge(_obs(500), _obs(470), final=True, **kwargs).verdict is Verdict.WORSE
    assert judge(_obs(500), _obs(300), final=False, **kwargs).verdict is Verdict.WORSE


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [(1.0, None, Verdict.FAILED), (None, 1.0, Verdict.FIXED), (float("nan"), 1.0, Verdict.INCOMPARABLE)],
)
def test_failures_and_skips(before, after, verdict) -> None:
    assert judge(Observation(before), Observation(after), higher_is_better=False, band=None).verdict is verdict


def _result(value, commit, *, version="v1", samples=None, name="m.B.track_x", params=()):
    return BenchmarkResult(name, params, value, samples, commit, "box", "env", version=version)


def test_compare_results_uses_the_band_of_the_machine() -> None:
    info = {"m.B.track_x": BenchmarkInfo("m.B.track_x", "track", "texts/s", True)}
    noise = NoiseFile(path=__import__("pathlib").Path("unused"))
    noise.update("box", "c0", [NoiseBand("m.B.track_x", 0.3, 5, 0.1, 0.2)])
    rows = compare_results([_result(1000, "a")], [_result(800, "b")], benchmarks=info, noise=noise, machine="box")
    assert [r.verdict for r in rows] == [Verdict.UNCHANGED]
    rows = compare_results([_result(1000, "a")], [_result(800, "b")], benchmarks=info, noise=noise, machine="other")
    assert [r.verdict for r in rows] == [Verdict.WORSE]


def test_changed_benchmark_code_is_not_comparable() -> None:
    rows = compare_results(
        [_result(1.0, "a", version="v1")], [_result(2.0, "b", version="v2")], benchmarks={}, noise=None, machine="box"
    )
    assert rows[0].verdict is Verdict.INCOMPARABLE


def test_repeated_track_runs_pool_into_one_value_per_run() -> None:
    obs = Observation.pooled([_result(10.0, "a"), _result(12.0, "a"), _result(11.0, "a")])
    assert obs.value == 11.0 and obs.samples == (10.0, 12.0, 11.0)


def test_the_threshold_is_the_calibrated_band_floored_at_3_percent_else_5_percent() -> None:
    before, after = _obs(1.0, [1.0] * 8), _obs(1.04, [1.04] * 8)
    assert judge(before, after, higher_is_better=False, band=None).threshold == 0.05
    assert judge(before, after, higher_is_better=False, band=None).verdict is Verdict.UNCHANGED
    assert judge(before, after, higher_is_better=False, band=0.01).threshold == 0.03
    assert judge(before, after, higher_is_better=False, band=0.01).verdict is Verdict.WORSE
    assert judge(before, after, higher_is_better=False, band=0.08).threshold == 0.08
    loose = Policy(min_change=0.05, calibrated_floor=0.05)
    assert judge(before, after, higher_is_better=False, band=0.01, policy=loose).verdict is Verdict.UNCHANGED
