"""A green you can trust: nothing broken, muted, descriptive-as-directional or unresolved passes as fine.

Each test here guards one defect of issue 22 and failed on the code before it: broken on both sides
read as unchanged; a zero made a memory phase incomparable; triage muted whole benchmarks; stage
shares carried a direction; a target that matched no benchmark passed `--check`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from veracity.cli.main import main
from veracity.tracking.detect import Observation, Verdict, compare_results, judge
from veracity.tracking.history import open_regressions
from veracity.tracking.results import BenchmarkInfo, BenchmarkResult, ResultsStore
from veracity.tracking.triage import load_triage
from veracity.tracking.triage_review import TriageState, review_triage

MB = 1e6
PHASE = "embedding.EmbeddingMemory.track_phase_bytes('encode_batch')"
PHASE_NAME, PHASE_PARAMS = "embedding.EmbeddingMemory.track_phase_bytes", ["'encode_batch'"]
SHARE = "pipeline.VerifyClaims.track_stage_share_nli"
BROKEN = "nli.NliThroughput.track_pairs_per_second"
MACHINE = "box"
COMMITS = [f"{i:x}" * 40 for i in range(1, 12)]
# Five commits at the old level: the history a band of this machine's own needs before a change (issue 17).
SETTLED = [25.6 * MB] * 5

BENCHMARKS = {
    PHASE_NAME: {"name": PHASE_NAME, "type": "track", "unit": "bytes", "params": [PHASE_PARAMS],
                 "param_names": ["phase"], "version": "p1"},
    SHARE: {"name": SHARE, "type": "track", "unit": "ratio [descriptive]", "params": [], "param_names": [],
            "version": "s1"},
    BROKEN: {"name": BROKEN, "type": "track", "unit": "pairs/s (higher is better)", "params": [],
             "param_names": [], "version": "b1"},
    "version": 2,
}  # fmt: skip


def _history(root: Path, phase: list[float], share: list[float] | None = None) -> Path:
    """An asv project whose results hold one value per commit (oldest first) of each benchmark; the
    NLI throughput benchmark failed on every commit."""
    results = root / "results"
    machine = results / MACHINE
    machine.mkdir(parents=True)
    (machine / "machine.json").write_text(json.dumps({"machine": MACHINE, "version": 1}))
    (results / "benchmarks.json").write_text(json.dumps(BENCHMARKS))
    for i, value in enumerate(phase):
        data = {
            "commit_hash": COMMITS[i],
            "env_name": "existing-py",
            "date": 1_700_000_000_000 + i * 1000,
            "params": {"machine": MACHINE},
            "python": "3.11",
            "requirements": {},
            "env_vars": {},
            "result_columns": ["result", "params", "version"],
            "results": {
                PHASE_NAME: [[value], [PHASE_PARAMS], "p1"],
                SHARE: [[(share or [0.5] * len(phase))[i]], [], "s1"],
                BROKEN: [[None], [], "b1"],
            },
            "durations": {},
            "version": 2,
        }
        (machine / f"{COMMITS[i][:8]}-existing-py.json").write_text(json.dumps(data))
    config = root / "asv.conf.json"
    config.write_text(json.dumps({"version": 1, "project": "p", "results_dir": "results", "benchmark_dir": "suite"}))
    (root / "suite").mkdir()
    return config


def _triage(root: Path, text: str) -> Path:
    path = root / "suite" / "triage.toml"
    path.write_text(text)
    return path


def _regressions(config: Path, capsys) -> tuple[int, dict]:
    code = main(["regressions", "--config", str(config), "--json"])
    return code, json.loads(capsys.readouterr().out)


# --- broken on both sides ------------------------------------------------------------------------


def test_failing_on_both_sides_is_broken_never_unchanged() -> None:
    judgement = judge(Observation(None), Observation(None), higher_is_better=False, band=None)
    assert judgement.verdict is Verdict.BROKEN
    assert not judgement.verdict.is_worse  # still broken: reported, the base failed too


def test_a_benchmark_broken_on_every_commit_is_listed_but_does_not_fail_ci(tmp_path: Path, capsys) -> None:
    config = _history(tmp_path, phase=[10 * MB] * 3)
    code, report = _regressions(config, capsys)
    assert code == 0
    assert report["broken"] == 1
    assert [(r["key"], r["verdict"]) for r in report["regressions"]] == [(BROKEN, "broken")]
    main(["regressions", "--config", str(config)])
    assert "1 benchmark(s) broken on every commit measured" in capsys.readouterr().out


def test_compare_counts_the_broken_in_its_summary_line(tmp_path: Path, capsys) -> None:
    config = _history(tmp_path, phase=[10 * MB] * 2)
    code = main(["compare", COMMITS[0][:8], COMMITS[1][:8], "--config", str(config), "--rerun", "0"])
    out = capsys.readouterr().out
    assert code == 0
    assert "1 broken" in out.splitlines()[0] and "STILL BROKEN" in out.splitlines()[-1]


# --- zero on one side ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after", "unit", "verdict"),
    [
        (0.0, 200 * MB, "bytes", Verdict.WORSE),
        (200 * MB, 0.0, "bytes", Verdict.BETTER),
        (0.0, 0.5 * 2**20, "bytes", Verdict.UNCHANGED),  # under the 1 MiB floor: the sampling grain
        (0.0, 0.2, "widgets", Verdict.INCOMPARABLE),  # a unit without a floor
        (0.9, 0.0, "ratio", Verdict.BETTER),  # lower is better here
    ],
)
def test_a_zero_is_judged_by_difference_against_the_units_floor(
    before: float, after: float, unit: str, verdict: Verdict
) -> None:
    judged = judge(Observation(before), Observation(after), higher_is_better=False, band=None, unit=unit)
    assert judged.verdict is verdict


def test_a_phase_that_grows_from_zero_is_a_regression(tmp_path: Path, capsys) -> None:
    config = _history(tmp_path, phase=[0.0, 0.0, 0.0, 200 * MB])
    code, report = _regressions(config, capsys)
    assert code == 1
    assert {r["key"]: r["verdict"] for r in report["regressions"]}[PHASE] == "worse"


# --- triage accepts one regression ---------------------------------------------------------------


def test_the_committed_triage_does_not_mute_a_new_phase_regression(tmp_path: Path, capsys) -> None:
    """Today's entries (migrated to name 5605eb6) no longer accept a growth that landed elsewhere."""
    config = _history(tmp_path, phase=[*SETTLED, 92.7 * MB])
    committed = Path(__file__).resolve().parents[2] / "benchmarks" / "triage.toml"
    _triage(tmp_path, committed.read_text())
    code, report = _regressions(config, capsys)
    assert code == 1
    row = {r["key"]: r for r in report["regressions"]}[PHASE]
    assert row["verdict"] == "worse" and row["accepted"] is None
    assert {t["benchmark"]: t["state"] for t in report["triage"]}["embedding.EmbeddingMemory.*"] == "not measured here"


def test_triage_entries_this_machine_never_measured_are_one_line_not_stale(tmp_path: Path, capsys) -> None:
    """A new machine measured none of the commits the committed triage names (5605eb6): its entries are not
    stale (they may still be needed where they were measured), and they take one line in the text and
    Markdown reports, not one each."""
    config = _history(tmp_path, phase=[*SETTLED, SETTLED[-1]])
    entry = f'benchmark = "{PHASE}"\nreason = "weights"\nexpires = 2999-01-01\n'
    _triage(tmp_path, "".join(f'[[accepted]]\ncommit = "{c}"\n{entry}' for c in ("5605eb6", "1234567")))
    assert main(["regressions", "--config", str(config)]) == 0
    triage_lines = [line for line in capsys.readouterr().out.splitlines() if "triage" in line]
    assert triage_lines == [
        "2 triage entries not measured here: commits 1234567, 5605eb6 are not in this machine's history, so they"
        " accept nothing on it"
    ]
    assert main(["regressions", "--config", str(config), "--markdown"]) == 0
    assert capsys.readouterr().out.count("triage entries not measured here") == 1
    _, report = _regressions(config, capsys)
    assert [t["state"] for t in report["triage"]] == ["not measured here"] * 2


def _accepting(commit: str, level: str = "") -> str:
    return (
        f'[[accepted]]\nbenchmark = "{PHASE}"\ncommit = "{commit[:7]}"\n{level}'
        'reason = "a second copy of the weights, see #9"\nexpires = 2999-01-01\n'
    )


def test_an_accepted_regression_passes_and_a_second_one_past_its_level_fails(tmp_path: Path, capsys) -> None:
    config = _history(tmp_path, phase=[*SETTLED, 92.7 * MB, 92.7 * MB])
    _triage(tmp_path, _accepting(COMMITS[5]))
    code, report = _regressions(config, capsys)
    assert code == 0
    row = {r["key"]: r for r in report["regressions"]}[PHASE]
    assert row["accepted"]["reason"] == "a second copy of the weights, see #9"
    assert report["triage"][0]["state"] == "accepting"

    later = tmp_path / "later"
    config = _history(later, phase=[*SETTLED, 92.7 * MB, 92.7 * MB, 150 * MB])
    _triage(later, _accepting(COMMITS[5]))
    code, report = _regressions(config, capsys)
    assert code == 1
    row = {r["key"]: r for r in report["regressions"]}[PHASE]
    assert row["accepted"] is None and row["first_bad_commit"] == COMMITS[7]
    assert report["triage"][0]["state"] == "in force"  # the first one stays accepted


def test_an_accepted_level_bounds_what_the_entry_accepts(tmp_path: Path) -> None:
    config = _history(tmp_path, phase=[*SETTLED, 150 * MB])
    store = ResultsStore(tmp_path / "results")
    within = load_triage(_triage(tmp_path, _accepting(COMMITS[5], level=f"level = {160 * MB}\n")))
    past = load_triage(_triage(tmp_path, _accepting(COMMITS[5], level=f"level = {92.7 * MB}\n")))
    assert config.is_file()
    by_key = {r.key: r for r in open_regressions(store, MACHINE, triage=within)}
    assert by_key[PHASE].accepted is not None
    by_key = {r.key: r for r in open_regressions(store, MACHINE, triage=past)}
    assert by_key[PHASE].accepted is None and by_key[PHASE].fails_ci


def test_an_entry_whose_regression_is_gone_or_that_matches_nothing_is_stale(tmp_path: Path) -> None:
    _history(tmp_path, phase=[25.6 * MB, 92.7 * MB, 25.6 * MB])
    store = ResultsStore(tmp_path / "results")
    triage = load_triage(
        _triage(
            tmp_path,
            _accepting(COMMITS[1])
            + '[[accepted]]\nbenchmark = "nli.Gone.track_x"\ncommit = "abc1234"\nreason = "r"\nexpires = 2999-01-01\n',
        )
    )
    found = open_regressions(store, MACHINE, triage=triage)
    states = [(r.entry.benchmark, r.state, r.detail) for r in review_triage(store, MACHINE, triage, found)]
    assert states[0][:2] == (PHASE, TriageState.STALE) and "no longer exists" in states[0][2]
    assert states[1][:2] == ("nli.Gone.track_x", TriageState.STALE) and "matches no benchmark" in states[1][2]


# --- descriptive figures -------------------------------------------------------------------------


def test_a_stage_share_is_shown_never_judged(tmp_path: Path, capsys) -> None:
    config = _history(tmp_path, phase=[10 * MB] * 4, share=[0.3, 0.3, 0.3, 0.6])
    code, report = _regressions(config, capsys)
    assert code == 0 and SHARE not in {r["key"] for r in report["regressions"]}
    info = {SHARE: BenchmarkInfo(SHARE, "track", "ratio [descriptive]", False)}
    rows = compare_results(
        [BenchmarkResult(SHARE, (), 0.3, None, "a", MACHINE, "env")],
        [BenchmarkResult(SHARE, (), 0.6, None, "b", MACHINE, "env")],
        benchmarks=info,
        noise=None,
        machine=MACHINE,
    )
    assert [r.verdict for r in rows] == [Verdict.DESCRIPTIVE]


def test_the_suites_stage_shares_are_declared_descriptive() -> None:
    source = (Path(__file__).resolve().parents[2] / "benchmarks" / "pipeline.py").read_text()
    for stage in ("embed", "retrieve", "nli"):
        head = source.split(f"def track_stage_share_{stage}(")[0].rstrip().splitlines()[-1]
        assert head.strip().startswith('@descriptive("ratio")'), head


# --- targets that match nothing ------------------------------------------------------------------


def test_targets_check_refuses_a_target_that_matches_no_benchmark(tmp_path: Path, capsys) -> None:
    config = _history(tmp_path, phase=[10 * MB] * 2)
    targets = tmp_path / "suite" / "targets.toml"
    targets.write_text(
        '[[target]]\ntitle = "phase"\nbenchmark = "embedding.EmbeddingMemory.*"\nop = "<"\nlimit = 1e9\n'
        'unit = "bytes"\n'
        '[[target]]\ntitle = "typo"\nbenchmark = "embedding.EncodeThroughput.track_text_per_second"\nop = ">"\n'
        'limit = 500\nunit = "texts/s"\n'
    )
    assert main(["targets", "--config", str(config), "--check"]) == 2
    assert "'typo'" in capsys.readouterr().err
    assert main(["targets", "--config", str(config)]) == 0
    assert "no such benchmark" in capsys.readouterr().out


def test_the_seed_targets_are_the_committed_ones() -> None:
    from veracity.tracking.targets import SEED_TARGETS, load_targets

    committed = Path(__file__).resolve().parents[2] / "benchmarks" / "targets.toml"
    assert load_targets(committed) == SEED_TARGETS


@pytest.mark.parametrize(
    ("level", "now", "past"),
    [
        (92.7 * MB, 95 * MB, False),  # within 5%
        (92.7 * MB, 150 * MB, True),
        (0.0, 0.5 * 2**20, False),  # an accepted level of zero: judged against the 1 MiB floor, as judge does
        (0.0, 200 * MB, True),
    ],
)
def test_past_an_accepted_level_is_decided_as_judge_decides(level: float, now: float, past: bool) -> None:
    from veracity.tracking.detect import past_by_more_than

    decided = past_by_more_than(level, now, higher_is_better=False, threshold=0.05, unit="bytes")
    judged = judge(Observation(level), Observation(now), higher_is_better=False, band=None, unit="bytes")
    assert decided is past and (judged.verdict is Verdict.WORSE) is past
