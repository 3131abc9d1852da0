"""A stage's time regression read beside its work count: which moved (issue 18).

Hand-made histories of a new machine: the embedding stage's time and its callgrind instruction count,
one value per commit. Time +20% with the work flat reads "work unchanged: likely machine noise";
with the work +6% it reads "work +6.0%". Nothing changes the verdict: the hint sits beside it.
"""

from __future__ import annotations

import json
from pathlib import Path

from asv_samples import write_series

from veracity.tracking.history import open_regressions
from veracity.tracking.report import regressions_to_json, regressions_to_markdown, regressions_to_text
from veracity.tracking.results import ResultsStore
from veracity.tracking.work_vs_time import check_work, stage_of

MACHINE = "intel-xeon-2c-avx512"
TIME = "embedding.EncodeBatch.time_encode_batch"
WORK = "work.WorkCounts.track_embedding_instructions"
NLI_TIME = "nli.NliBatching.time_predict"
UNITS = {TIME: "seconds", WORK: "instructions", NLI_TIME: "seconds"}
JITTER = [0.99, 1.01, 1.0, 0.995, 1.005, 1.0]


def _project(root: Path, series: dict[str, list[float]]) -> ResultsStore:
    write_series(root / "results", MACHINE, series, UNITS)
    return ResultsStore(root / "results")


def _history(work_step: float) -> dict[str, list[float]]:
    times = [0.100 * j for j in JITTER] + [0.120]  # +20% on the last commit
    work = [4.0e9 * (1 + d) for d in (0.0, 0.001, -0.001, 0.0, 0.0005, 0.0)] + [4.0e9 * work_step]
    return {TIME: times, WORK: work}


def test_a_time_regression_with_flat_work_says_likely_machine_noise(tmp_path: Path) -> None:
    store = _project(tmp_path, _history(1.0))
    (row,) = [r for r in open_regressions(store, MACHINE) if r.key == TIME]
    assert row.verdict.is_worse and row.work is not None and not row.work.moved
    text = regressions_to_text([row])
    assert "[time +20%, work unchanged (+0.00%): likely machine noise]" in text, text
    assert "work unchanged" in regressions_to_markdown([row])
    said = json.loads(regressions_to_json([row]))["regressions"][0]["work"]
    assert said["stage"] == "embedding" and said["moved"] is False


def test_a_time_regression_whose_work_grew_says_how_much(tmp_path: Path) -> None:
    store = _project(tmp_path, _history(1.06))
    rows = {r.key: r for r in open_regressions(store, MACHINE)}
    assert rows[TIME].work is not None and rows[TIME].work.moved
    assert "[time +20%, work +6.0%]" in regressions_to_text([rows[TIME]])
    # The work count is a regression of its own, and carries no hint about itself.
    assert rows[WORK].verdict.is_worse and rows[WORK].work is None


def test_no_hint_without_a_work_count_of_the_same_stage() -> None:
    assert stage_of(NLI_TIME) == "nli" and stage_of("cold_start.ColdStart.track_import_seconds") is None
    assert check_work(NLI_TIME, "seconds", [], []) is None
    assert check_work(WORK, "instructions", [], []) is None  # a count is not read against itself
    assert check_work("embedding.EncodeBatch.track_peak_bytes", "bytes", [], []) is None  # not a speed


def test_the_site_regressions_page_says_which_moved(tmp_path: Path) -> None:
    from veracity.tracking.site_pages import regressions_to_html

    store = _project(tmp_path, _history(1.0))
    rows = open_regressions(store, MACHINE)
    page = regressions_to_html([(MACHINE, rows)], {}, "veracity")
    assert "time +20%, work unchanged (+0.00%): likely machine noise" in page


def test_a_work_count_without_a_band_is_judged_at_its_own_floor_not_the_blanket() -> None:
    from veracity.tracking.detect import Observation, Verdict, blanket_source, judge
    from veracity.tracking.detect import Policy as DetectPolicy

    def verdict(after: float) -> Verdict:
        before = Observation(4.0e9)
        return judge(before, Observation(after), higher_is_better=False, band=None, unit="instructions").verdict

    assert verdict(4.0e9 * 1.02) is Verdict.WORSE  # +2% of work: past the 1% floor (the blanket 5% missed it)
    assert verdict(4.0e9 * 1.005) is Verdict.UNCHANGED
    assert blanket_source(DetectPolicy(), "instructions") == "a count that repeats: its 1% floor"
    assert "blanket 5%" in blanket_source(DetectPolicy(), "seconds")
