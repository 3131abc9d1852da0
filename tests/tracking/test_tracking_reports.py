"""Report writers: content for people and CI, and they never crash on odd values."""

from __future__ import annotations

import datetime as dt
import json
import math

from hypothesis import given
from hypothesis import strategies as st

from veracity.tracking.detect import Comparison, Verdict
from veracity.tracking.history import Regression
from veracity.tracking.report import (
    comparison_to_json,
    comparison_to_markdown,
    comparison_to_text,
    format_value,
    regressions_to_json,
    regressions_to_markdown,
    regressions_to_text,
    targets_to_markdown,
    targets_to_text,
)
from veracity.tracking.site_pages import targets_to_html
from veracity.tracking.targets import SEED_TARGETS, Status, Target, evaluate_target
from veracity.tracking.triage import Acceptance

A, B = "a" * 40, "b" * 40


def _row(key: str, verdict: Verdict, before=1000.0, after=800.0, higher=True, unit="texts/s") -> Comparison:
    return Comparison(key, key, (), unit, higher, "env", before, after, after / before, None, 0.05, verdict)


def _regression(accepted: Acceptance | None = None) -> Regression:
    return Regression(
        key="nli.Throughput.track_pairs_per_second(8)",
        benchmark="nli.Throughput.track_pairs_per_second",
        params=(("batch", "8"),),
        unit="pairs/s",
        higher_is_better=True,
        machine="box",
        env_name="env",
        before=150.0,
        after=120.0,
        ratio=0.8,
        p_value=None,
        threshold=0.05,
        verdict=Verdict.WORSE,
        good_commit=A,
        first_bad_commit=B,
        latest_commit=B,
        accepted=accepted,
    )


def test_markdown_comparison_puts_counts_first_then_changed_rows_worst_first() -> None:
    rows = [_row("x.better", Verdict.BETTER), _row("x.same", Verdict.UNCHANGED), _row("x.worse", Verdict.WORSE)]
    text = comparison_to_markdown(rows, A, B)
    lines = text.splitlines()
    assert lines[2] == "**1 worse**, 1 better, 1 unchanged."
    assert lines.index(next(x for x in lines if "x.worse" in x)) < lines.index(
        next(x for x in lines if "x.better" in x)
    )
    assert "x.same" not in text
    assert "higher is better" in text


def test_accepted_rows_are_marked() -> None:
    text = comparison_to_markdown([_row("x.worse", Verdict.WORSE)], A, B, accepted={"x.worse"})
    assert "❌ worse (accepted)" in text


def test_regression_reports_carry_every_field() -> None:
    reg = _regression()
    data = json.loads(regressions_to_json([reg]))["regressions"][0]
    assert data["params"] == {"batch": "8"}
    assert (data["unit"], data["direction"], data["before"], data["after"], data["ratio"]) == (
        "pairs/s", "higher is better", 150.0, 120.0, 0.8,
    )  # fmt: skip
    assert (data["good_commit"], data["first_bad_commit"]) == (A, B)
    md = regressions_to_markdown([reg])
    assert "aaaaaaaa..bbbbbbbb" in md and "batch=8" in md and "150 pairs/s" in md
    assert "bbbbbbbb" in regressions_to_text([reg])


def test_accepted_regression_does_not_fail_ci() -> None:
    reg = _regression(Acceptance("nli.*", B[:7], "known, see #3", dt.date(2999, 1, 1), glob_reason="one cause"))
    assert not reg.fails_ci
    assert json.loads(regressions_to_json([reg]))["failing"] == 0
    assert "accepted until 2999-01-01" in regressions_to_markdown([reg])


def test_no_regressions() -> None:
    assert regressions_to_markdown([]) == "**No open regressions.**\n"
    assert json.loads(regressions_to_json([])) == {
        "regressions": [],
        "failing": 0,
        "accepted": 0,
        "broken": 0,
        "machine_drift": 0,
        "not_enough_history": {"count": 0, "need_commits": 5, "benchmarks": []},
        "triage": [],
    }


def test_human_units() -> None:
    assert format_value(0.0021, "seconds") == "2.1 ms"
    assert format_value(3.2e9, "bytes") == "3.2 GB"
    assert format_value(512.3, "texts/s") == "512.3 texts/s"
    assert format_value(None, "seconds") == "failed"
    assert format_value(math.nan, "seconds") == "skipped"


def test_targets_statuses_and_margins() -> None:
    from veracity.tracking.results import BenchmarkResult

    target = Target("embedding", "embedding.*track_texts_per_second*", ">", 500, "texts/s")
    ok = [BenchmarkResult("embedding.EncodeThroughput.track_texts_per_second", (), 600.0, None, A, "box", "env")]
    close = [BenchmarkResult("embedding.E.track_texts_per_second", ("64",), 520.0, None, A, "box", "env")]
    low = [BenchmarkResult("embedding.E.track_texts_per_second", ("64",), 400.0, None, A, "box", "env")]
    assert evaluate_target(target, ok).status is Status.MET
    assert abs(evaluate_target(target, ok).margin - 0.2) < 1e-9
    assert evaluate_target(target, close).status is Status.CLOSE
    assert evaluate_target(target, low).status is Status.MISSED
    assert evaluate_target(target, []).status is Status.NO_DATA
    statuses = [evaluate_target(t, ok) for t in SEED_TARGETS]
    assert "✅" in targets_to_text(statuses, A) and "❔" in targets_to_markdown(statuses, A)
    assert "<table>" in targets_to_html(statuses, A, "veracity")


def test_lower_is_better_target_margin() -> None:
    from veracity.tracking.results import BenchmarkResult

    target = Target("search", "vs.*", "<", 3.0, "seconds")
    status = evaluate_target(target, [BenchmarkResult("vs.S.time_search", (), 1.5, None, A, "box", "env")])
    assert status.status is Status.MET and abs(status.margin - 0.5) < 1e-9


values = st.none() | st.floats(allow_nan=True, allow_infinity=True)
verdicts = st.sampled_from(list(Verdict))
texts = st.text(max_size=12)


@given(st.lists(st.tuples(texts, verdicts, values, values, st.booleans(), texts), max_size=6))
def test_comparison_writers_never_crash(rows) -> None:
    comparisons = [
        Comparison(k, k, (("p", k),), unit, hib, "env", b, a, None, None, 0.05, v) for k, v, b, a, hib, unit in rows
    ]
    comparison_to_markdown(comparisons, A, B)
    comparison_to_text(comparisons, A, B)
    json.loads(comparison_to_json(comparisons, A, B))  # valid JSON: no NaN leaks


@given(values, values, st.floats(allow_nan=True), texts)
def test_regression_writers_never_crash(before, after, ratio, unit) -> None:
    reg = _regression()
    reg = Regression(**{**reg.__dict__, "before": before, "after": after, "ratio": ratio, "unit": unit})
    regressions_to_markdown([reg])
    regressions_to_text([reg])
    json.loads(regressions_to_json([reg]))
