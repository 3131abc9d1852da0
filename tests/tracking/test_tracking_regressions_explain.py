"""`veracity regressions --explain`: each open regression arrives with veracity explain's top lines.

A real toy history (existing environment, asv runs of each commit) where the last commit makes the
toy's `time_work` sleep four times as long; the explanation is a real profile of both commits.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from toy_suite import MACHINE, ToyRepo

from veracity.cli.main import main

TIME = "bench.Suite.time_work"


@pytest.fixture(scope="module")
def slowed(asv_home: Path, tmp_path_factory: pytest.TempPathFactory) -> ToyRepo:
    repo = ToyRepo(tmp_path_factory.mktemp("explained") / "toy")
    labels = [f"c{i}" for i in range(6)]  # five settled commits before the change: enough history for a band
    for label in labels:
        repo.commit(label)
    repo.commit("slow", time=4.0)
    for label in [*labels, "slow"]:
        repo.run_at(label, "Suite.time_work")
    repo.checkout_main()
    return repo


def _regressions(repo: ToyRepo, out: Path, *extra: str) -> tuple[int, dict]:
    code = main(["regressions", "--config", str(repo.config), "--machine", MACHINE, "--json", "-o", str(out), *extra])
    return code, json.loads(out.read_text())


@pytest.mark.asv
@pytest.mark.slow
def test_each_regression_carries_the_top_lines_of_its_explanation(slowed: ToyRepo, tmp_path: Path) -> None:
    code, report = _regressions(slowed, tmp_path / "r.json", "--explain", "--explain-budget", "600")
    assert code == 1
    flagged = [r["key"] for r in report["regressions"]]
    assert TIME in flagged, report
    lines = report["explanations"]["explained"][TIME]
    assert lines[0].startswith(TIME) and slowed.commits["slow"][:8] in lines[0], lines
    # The work that grew is the sleep the commit made longer.
    assert any("sleep" in line for line in lines[1:]), lines


@pytest.mark.asv
@pytest.mark.slow
def test_a_spent_budget_says_so_and_explains_nothing(slowed: ToyRepo, tmp_path: Path, capsys) -> None:
    code, report = _regressions(slowed, tmp_path / "r.json", "--explain", "--explain-budget", "0")
    assert code == 1
    assert report["explanations"]["explained"] == {}
    assert report["explanations"]["not_explained"][TIME] == "time budget of 0 s spent"
    assert (
        main(
            ["regressions", "--config", str(slowed.config), "--machine", MACHINE, "--explain", "--explain-budget", "0"]
        )
        == 1
    )
    out = capsys.readouterr().out
    assert "Explanations (veracity explain" in out and f"{TIME}: not explained: time budget of 0 s spent" in out


@pytest.mark.asv
@pytest.mark.slow
def test_compare_explains_what_fails_it_in_its_markdown(slowed: ToyRepo, tmp_path: Path) -> None:
    out = tmp_path / "comment.md"
    argv = ["compare", "c5", "slow", "--config", str(slowed.config), "--machine", MACHINE, "--rerun", "0"]
    code = main([*argv, "--markdown", "-o", str(out), "--explain", "--explain-budget", "600"])
    text = out.read_text()
    assert code == 1, text
    assert "#### Why (veracity explain" in text and f"- `{TIME}`" in text, text
    assert "sleep" in text.split("#### Why", 1)[1], text
