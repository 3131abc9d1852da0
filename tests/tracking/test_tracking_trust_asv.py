"""Issue 22's acceptance on real asv runs and a real `asv publish`: a memory phase that grows is flagged by
`veracity regressions` and on the published regressions page, from about 0 and from tens of MB, with the
project's committed (migrated) triage entries in place; a second regression past an accepted level is
flagged while the first stays accepted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from toy_suite import ToyRepo

from veracity.cli.main import main

pytestmark = pytest.mark.asv

REPO = Path(__file__).resolve().parents[2]
MB = 1e6
# Named as the suite names its memory phases, so the committed triage globs (5605eb6) cover them.
PHASES = """
import os
import sys

try:
    import toy
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import toy


class EmbeddingMemory:
    params = [["encode_batch", "warm"]]
    param_names = ["phase"]

    def track_phase_bytes(self, phase):
        return toy.PLANT.get(phase, 0.0)

    track_phase_bytes.unit = "bytes"
"""
ENCODE = "embedding.EmbeddingMemory.track_phase_bytes('encode_batch')"
WARM = "embedding.EmbeddingMemory.track_phase_bytes('warm')"


@pytest.fixture(scope="module")
def phases(asv_home: Path, tmp_path_factory: pytest.TempPathFactory) -> ToyRepo:
    """settled history -> base -> A/A -> grow: the encode phase 25.6 MB -> 92.7 MB, the warm phase 0 -> 200 MB.
    Five commits before the growth: the history a band of this machine's own needs (issue 17)."""
    repo = ToyRepo(tmp_path_factory.mktemp("phases") / "toy")
    (repo.root / "benchmarks" / "embedding.py").write_text(PHASES)
    (repo.root / "benchmarks" / "triage.toml").write_text((REPO / "benchmarks" / "triage.toml").read_text())
    plants = {
        **{f"settle{i}": {"encode_batch": 25.6 * MB, "warm": 0.0} for i in range(1, 4)},
        "base": {"encode_batch": 25.6 * MB, "warm": 0.0},
        "aa": {"encode_batch": 25.6 * MB, "warm": 0.0},
        "grow": {"encode_batch": 92.7 * MB, "warm": 200 * MB},
    }
    for label, plant in plants.items():
        repo.commit(label, **plant)
    for label in plants:
        repo.run_at(label, r"EmbeddingMemory")
    repo.checkout_main()
    return repo


def test_a_growing_phase_is_flagged_from_zero_and_from_tens_of_mb(phases: ToyRepo, capsys) -> None:
    code = main(["regressions", "--config", str(phases.config), "--json"])
    report = json.loads(capsys.readouterr().out)
    rows = {r["key"]: r for r in report["regressions"]}
    assert code == 1
    assert rows[ENCODE]["verdict"] == "worse" and rows[ENCODE]["accepted"] is None
    assert rows[WARM]["verdict"] == "worse" and rows[WARM]["before"] == 0 and rows[WARM]["accepted"] is None
    states = {t["benchmark"]: t["state"] for t in report["triage"]}
    assert states["embedding.EmbeddingMemory.*"] == "not measured here"  # 5605eb6 is not in this history


def test_the_published_regressions_page_lists_both_phases(phases: ToyRepo) -> None:
    phases.asv("publish")
    listed = {entry[0] for entry in json.loads((phases.root / "html" / "regressions.json").read_text())["regressions"]}
    assert {ENCODE, WARM} <= listed
    page = (phases.root / "html" / "triage.html").read_text()
    assert "embedding.EmbeddingMemory.*" in page and "not measured here" in page


def test_a_second_regression_past_the_accepted_level_fails_while_the_first_stays_accepted(
    phases: ToyRepo, capsys
) -> None:
    triage = phases.root / "accepted.toml"
    triage.write_text(
        f'[[accepted]]\nbenchmark = "{ENCODE}"\ncommit = "{phases.commits["grow"][:10]}"\n'
        'reason = "ONNX Runtime keeps a second copy of the weights, see #9"\nexpires = 2999-01-01\n'
    )
    args = ["regressions", "--config", str(phases.config), "--json", "--triage-file", str(triage)]
    main(args)
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)["regressions"]}
    assert rows[ENCODE]["accepted"] is not None

    phases.commit("grow2", encode_batch=150 * MB, warm=200 * MB)
    phases.run_at("grow2", r"EmbeddingMemory")
    phases.checkout_main()
    assert main(args) == 1
    report = json.loads(capsys.readouterr().out)
    rows = {r["key"]: r for r in report["regressions"]}
    assert rows[ENCODE]["accepted"] is None and rows[ENCODE]["first_bad_commit"] == phases.commits["grow2"]
    assert [t["state"] for t in report["triage"]] == ["in force"]
