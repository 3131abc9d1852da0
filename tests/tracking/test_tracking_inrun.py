"""Verdicts from a run's own noise: interleaved rounds of two commits judged on their paired ratios."""

from __future__ import annotations

import math
import random

import pytest

from veracity.tracking.detect import Verdict
from veracity.tracking.inrun import InRunNoise, judge_rounds, paired_badness
from veracity.tracking.stats import mean_interval, student_t_quantile, student_t_two_sided_p

FLOOR = 0.03


def _rounds(change: float, *, pair_noise: float, drift: float = 0.10, n: int = 6, seed: int = 1):
    """Base and head values of `n` rounds: each round's machine speed moves both (up to ±`drift`), and
    each side has its own noise of sd `pair_noise`; head is `change` slower."""
    rng = random.Random(seed)
    base, head = [], []
    for _ in range(n):
        speed = 1 + rng.uniform(-drift, drift)
        base.append(speed * math.exp(rng.gauss(0, pair_noise)))
        head.append(speed * (1 + change) * math.exp(rng.gauss(0, pair_noise)))
    return base, head


def test_t_distribution_matches_known_values() -> None:
    # Student's t table: 95% two-sided critical values.
    assert student_t_quantile(0.975, 1) == pytest.approx(12.7062, rel=1e-4)
    assert student_t_quantile(0.975, 5) == pytest.approx(2.5706, rel=1e-4)
    assert student_t_quantile(0.975, 30) == pytest.approx(2.0423, rel=1e-4)
    assert student_t_two_sided_p(2.5706, 5) == pytest.approx(0.05, rel=1e-3)
    assert student_t_two_sided_p(0.0, 7) == pytest.approx(1.0)


def test_mean_interval_agrees_with_scipy() -> None:
    scipy_stats = pytest.importorskip("scipy.stats")
    values = [0.012, -0.004, 0.021, 0.009, 0.015, 0.002, 0.011]
    mean, half, p = mean_interval(values)
    expected = scipy_stats.ttest_1samp(values, 0.0)
    low, high = expected.confidence_interval(0.95)
    assert (mean - half, mean + half) == pytest.approx((low, high), rel=1e-9)
    assert p == pytest.approx(expected.pvalue, rel=1e-9)


def test_an_aa_pair_on_a_drifting_machine_is_unchanged() -> None:
    """Rounds 10% apart from one another, the two commits 0.5% apart within each round: the run's own noise is small."""
    base, head = _rounds(0.0, pair_noise=0.005)
    judgement, noise = judge_rounds(base, head, higher_is_better=False, floor=FLOOR, final=False)
    assert judgement.verdict is Verdict.UNCHANGED
    assert noise.rounds == 6 and 0 < noise.half_width < FLOOR


def test_a_five_percent_slowdown_is_worse_in_a_drifting_run() -> None:
    base, head = _rounds(0.05, pair_noise=0.005)
    judgement, _ = judge_rounds(base, head, higher_is_better=False, floor=FLOOR, final=False)
    assert judgement.verdict is Verdict.WORSE
    assert judgement.ratio == pytest.approx(1.05, abs=0.01) and judgement.threshold == FLOOR


def test_direction_a_throughput_drop_is_worse_and_its_rise_better() -> None:
    base, head = _rounds(-0.05, pair_noise=0.005)  # items/s 5% lower
    drop, _ = judge_rounds(base, head, higher_is_better=True, floor=FLOOR, final=True)
    rise, _ = judge_rounds(head, base, higher_is_better=True, floor=FLOOR, final=True)
    assert (drop.verdict, rise.verdict) == (Verdict.WORSE, Verdict.BETTER)
    assert drop.ratio == pytest.approx(0.95, abs=0.01)


def test_an_interval_across_the_floor_is_grey_until_no_more_rounds_come() -> None:
    base, head = _rounds(0.04, pair_noise=0.03, seed=3)
    grey, noise = judge_rounds(base, head, higher_is_better=False, floor=FLOOR, final=False)
    assert grey.verdict is Verdict.GREY and noise.half_width > 0.01
    final, _ = judge_rounds(base, head, higher_is_better=False, floor=FLOOR, final=True)
    assert final.verdict in (Verdict.WORSE, Verdict.UNCHANGED)


def test_at_the_last_round_a_change_counts_only_when_significant_and_past_the_floor() -> None:
    # mean +4%, interval about ±4.5%: past the floor but not significant -> unchanged
    d = [0.09, -0.01, 0.08, 0.0, 0.07, 0.01]
    base = [1.0] * 6
    head = [math.exp(x) for x in d]
    judged, _ = judge_rounds(base, head, higher_is_better=False, floor=FLOOR, final=True)
    assert judged.verdict is Verdict.UNCHANGED and judged.p_value > 0.05
    # the same mean, tighter: significant, past the floor, but the interval still crosses it -> worse
    tight = [math.exp(x) for x in (0.05, 0.03, 0.048, 0.032, 0.046, 0.034)]
    judged, noise = judge_rounds(base, tight, higher_is_better=False, floor=FLOOR, final=True)
    assert judged.verdict is Verdict.WORSE and noise.half_width > 0.005


def test_identical_rounds_have_no_spread() -> None:
    judged, noise = judge_rounds([0.97] * 4, [0.97] * 4, higher_is_better=True, floor=FLOOR, final=False)
    assert judged.verdict is Verdict.UNCHANGED and noise.half_width == 0.0
    dropped, _ = judge_rounds([0.97] * 4, [0.90] * 4, higher_is_better=True, floor=FLOOR, final=False)
    assert dropped.verdict is Verdict.WORSE


def test_rounds_without_a_value_on_both_sides_are_left_out() -> None:
    assert paired_badness([1.0, None, 0.0, 2.0], [1.1, 1.0, 1.0, None], higher_is_better=False) == [
        pytest.approx(math.log(1.1))
    ]
    assert judge_rounds([1.0, None], [1.1, 1.2], higher_is_better=False, floor=FLOOR, final=True) is None


def test_the_noise_source_says_in_run_rounds_and_width_and_reads_back() -> None:
    noise = InRunNoise(rounds=6, half_width=0.0213)
    assert noise.source == "in-run: 6 interleaved rounds, ±2.1% (95%)"
    assert InRunNoise.from_source(noise.source) == InRunNoise(6, 0.021, 0.95)
    assert InRunNoise.from_source("paired band calibrated on this machine") is None


def _judged_row(key: str, source: str, verdict: Verdict = Verdict.WORSE):
    from veracity.tracking.detect import Comparison

    return Comparison(
        key, key, (), "seconds", False, "env", 1.0, 1.06, 1.06, 0.001, FLOOR, verdict, noise_source=source
    )


def test_every_report_says_each_verdict_came_from_the_runs_own_noise() -> None:
    import json

    from veracity.tracking.report import comparison_to_json, comparison_to_markdown, comparison_to_text

    rows = [
        _judged_row("nli.time_predict", InRunNoise(6, 0.021).source),
        _judged_row("embedding.time_encode", InRunNoise(12, 0.004).source, Verdict.UNCHANGED),
        _judged_row("suite.instrs_encode", "no noise figure for this machine: blanket 5%", Verdict.UNCHANGED),
    ]
    text = comparison_to_text(rows, "a" * 40, "b" * 40)
    assert "nli.time_predict  (lower is better)  [±2.1% in-run (6 rounds)]" in text
    assert "noise figures: 2 in-run (6-12 interleaved rounds, ±0.4% to ±2.1% at 95%); 1 no noise figure" in text
    markdown = comparison_to_markdown(rows, "a" * 40, "b" * 40)
    assert "| Noise |" in markdown and "| ±2.1% in-run (6 rounds) |" in markdown
    assert "Noise figures: 2 in-run (6-12 interleaved rounds, ±0.4% to ±2.1% at 95%)" in markdown
    data = {row["key"]: row for row in json.loads(comparison_to_json(rows, "a" * 40, "b" * 40))["rows"]}
    assert data["nli.time_predict"]["noise_source"] == "in-run: 6 interleaved rounds, ±2.1% (95%)"
    assert data["nli.time_predict"]["in_run"] == {"rounds": 6, "half_width": 0.021, "confidence": 0.95}
    assert "in_run" not in data["suite.instrs_encode"]


@pytest.mark.asv
@pytest.mark.slow
def test_continuous_in_rounds_judges_with_the_runs_own_noise(asv_home, tmp_path) -> None:
    """A real `veracity continuous` on a virtualenv toy suite: 4 rounds, one asv run each, alternating order.

    The toy's throughput moves 1% from one import of the suite to the next (its `jitter` plant), so
    the rounds disagree and the interval has a width; the pull request drops throughput by 15% and
    halves memory (track_ figures have no samples: each round's value is read after its asv run).
    """
    import json

    from toy_suite import MACHINE, ToyRepo

    from veracity.cli.main import main

    repo = ToyRepo(tmp_path / "toy", env_type="virtualenv")
    repo.commit("base", jitter=0.01)
    repo.commit("pr", jitter=0.01, throughput=0.85, memory=0.5)
    report = tmp_path / "report.json"
    argv = ["continuous", "base", "pr", "--config", str(repo.config), "--machine", MACHINE, "-b", r"\.track_"]
    code = main([*argv, "--rounds", "4", "--rerun", "0", "--quiet", "--json", "--output", str(report)])
    rows = {row["key"]: row for row in json.loads(report.read_text())["rows"]}
    assert code == 1, report.read_text()
    throughput = rows["bench.Suite.track_items_per_second"]
    assert throughput["verdict"] == "worse" and throughput["ratio"] == pytest.approx(0.85, abs=0.02)
    assert rows["bench.Suite.track_peak_bytes"]["verdict"] == "better"
    assert rows["bench.Suite.track_recall"]["verdict"] == "unchanged"
    noise = InRunNoise.from_source(throughput["noise_source"])
    assert noise is not None and noise.rounds == 4 and noise.half_width > 0  # the jitter is measured
    assert rows["bench.Suite.track_recall"]["noise_source"] == "in-run: 4 interleaved rounds, ±0.0% (95%)"


@pytest.mark.asv
@pytest.mark.slow
def test_compare_reruns_a_grey_result_in_rounds_and_judges_it_with_their_noise(asv_home, tmp_path) -> None:
    """Stored results: a 4.2% throughput drop inside a calibrated 5% band is grey, then passed as unchanged
    when re-runs pool; re-run as interleaved rounds, its rounds agree to the digit and it is worse."""
    import json

    from toy_suite import MACHINE, ToyRepo

    from veracity.cli.main import main
    from veracity.tracking.noise import NoiseBand, NoiseFile

    repo = ToyRepo(tmp_path / "toy", env_type="virtualenv")
    repo.commit("root")
    repo.commit("base")
    repo.commit("pr", grey=0.96)
    repo.asv("run", "root..pr", "--machine", MACHINE, "-b", "track_grey", "--record-samples")
    noise = NoiseFile(tmp_path / "noise.json")
    noise.update(MACHINE, "x", [NoiseBand("bench.Suite.track_grey_items_per_second", 0.05, 5, 0.01, 0.05)])
    noise.save()
    argv = ["compare", "base", "pr", "--config", str(repo.config), "--machine", MACHINE, "--noise-file"]
    argv += [str(noise.path), "--json", "--quiet", "--output", str(tmp_path / "out.json")]

    def row(*extra: str) -> dict:
        main([*argv, *extra])
        rows = json.loads((tmp_path / "out.json").read_text())["rows"]
        return next(r for r in rows if r["key"] == "bench.Suite.track_grey_items_per_second")

    banded = row("--rerun", "0")
    assert (banded["verdict"], banded["noise_source"]) == ("unchanged", "band calibrated on this machine")
    in_rounds = row("--rerun", "1", "--rounds", "2")
    assert in_rounds["verdict"] == "worse", in_rounds
    assert in_rounds["noise_source"] == "in-run: 2 interleaved rounds, ±0.0% (95%)"


def test_a_recall_lost_in_most_rounds_is_worse_not_judged_on_the_rounds_that_reached_it() -> None:
    """QPS at a recall is 0 in a round whose builds never reached the recall. Such a round counts at the
    unit's floor (1 query/s): left out, a plant that lost recall 0.99 in 4 of 6 rounds was judged on the
    2 rounds that reached it, at the same speed, and came out unchanged."""
    base = [1100.0, 1050.0, 1200.0, 1000.0, 1150.0, 1080.0]
    head = [0.0, 0.0, 0.0, 0.0, 1150.0, 1080.0]
    judged, noise = judge_rounds(base, head, higher_is_better=True, floor=FLOOR, final=True, unit="queries/s")
    assert judged.verdict is Verdict.WORSE and noise.rounds == 6
    both_lost, _ = judge_rounds([0.0] * 6, [0.0] * 6, higher_is_better=True, floor=FLOOR, final=True, unit="queries/s")
    assert both_lost.verdict is Verdict.UNCHANGED
    # A unit with no absolute floor still leaves such rounds out.
    assert paired_badness([0.0, 1.0], [1.0, 1.0], higher_is_better=True) == [0.0]
