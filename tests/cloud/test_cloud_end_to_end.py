"""The issue's acceptance test: a 3-commit range in 2 local shards, merged, published as one history."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cloud_helpers import fake_nvidia_smi
from toy_suite import ToyRepo

from veracity.cli import main
from veracity.tracking.machine import current

pytestmark = pytest.mark.asv


@pytest.fixture(scope="module")
def toy(asv_home: Path, tmp_path_factory: pytest.TempPathFactory) -> ToyRepo:
    """base, then a throughput drop, then recovery: three commits after `base` to measure."""
    repo = ToyRepo(tmp_path_factory.mktemp("e2e") / "toy")
    for label, plant in [("base", {}), ("c1", {}), ("c2", {"throughput": 0.8}), ("c3", {})]:
        repo.commit(label, **plant)
    return repo


def _graphs(html: Path, benchmark: str) -> list[Path]:
    """The per-machine graphs of one benchmark (asv also writes one summary graph across machines)."""
    return sorted(p for p in html.glob(f"graphs/**/{benchmark}.json") if "summary" not in p.parts)


def test_three_commits_in_two_local_shards_publish_as_one_history_with_the_fingerprint(
    toy: ToyRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["cloud", "run", "base..c3", "--backend", "local", "--shards", "2", "--config", str(toy.config)])
    out = capsys.readouterr().out
    assert code == 0, out
    machine = current().machine_name
    assert f"measuring 3 commit(s) in 2 shard(s) on machine {machine}" in out
    assert "shard 0 (2 commit(s)) done" in out and "shard 1 (1 commit(s)) done" in out
    assert "merged 3 result file(s)" in out and "warning" not in out

    toy.asv("publish")
    html = toy.root / "html"
    index = json.loads((html / "index.json").read_text())
    # One machine (the toy's own `toybox` never measured anything), and its record is the fingerprint.
    assert list(index["machines"]) == [machine]
    record = index["machines"][machine]
    fingerprint = current()
    assert record["cpu"] == fingerprint.cpu_description() and fingerprint.cpu_model in record["cpu"]
    assert (record["num_cpu"], record["torch"]) == (str(fingerprint.cores), fingerprint.torch)
    # One history: one graph of the series holding all three commits in order, with the planted drop.
    (graph,) = _graphs(html, "bench.Suite.track_items_per_second")
    points = json.loads(graph.read_text())
    assert [value for _, value in points] == [1000.0, 800.0, 1000.0]
    revisions = {index["revision_to_hash"][str(rev)] for rev, _ in points}
    assert revisions == {toy.commits["c1"], toy.commits["c2"], toy.commits["c3"]}


def test_a_rerun_skips_the_commits_already_measured_on_this_machine(
    toy: ToyRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    results = toy.root / ".asv" / "results" / current().machine_name
    before = {p.name: p.stat().st_mtime_ns for p in results.glob("*.json")}
    code = main(["cloud", "run", "base..c3", "--backend", "local", "--shards", "2", "--config", str(toy.config)])
    out = capsys.readouterr().out
    assert code == 0
    assert "3 of 3 commit(s) already measured" in out and "nothing to run" in out
    assert {p.name: p.stat().st_mtime_ns for p in results.glob("*.json")} == before


def test_a_gpu_machine_gets_its_own_name_and_its_gpu_reaches_the_site(
    toy: ToyRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No GPU here: nvidia-smi answers as on an H100 host, for this process and the shard processes alike.
    fake_nvidia_smi(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    argv = ["cloud", "run", "c3", "--backend", "local", "--gpu", "H100", "--quick", "--config", str(toy.config)]
    assert main(argv) == 0, capsys.readouterr().out
    gpu_machine = current().machine_name
    assert gpu_machine.startswith(current(probe_gpu=False).machine_name + "-nvidia-h100-80gb-hbm3-cuda")

    toy.asv("publish")
    index = json.loads((toy.root / "html" / "index.json").read_text())
    record = index["machines"][gpu_machine]
    gpu = (record["gpu"], record["gpu_memory"], record["gpu_driver"])
    assert gpu == ("1x NVIDIA H100 80GB HBM3", "79.6 GB", "550.54.15")
    assert record["cuda"] and "GPU NVIDIA H100 80GB HBM3 79.6 GB, driver 550.54.15" in record["cpu"]
    # Never compared: the GPU machine's series is a graph of its own beside the CPU machine's.
    assert len(_graphs(toy.root / "html", "bench.Suite.track_items_per_second")) == 2


def test_asking_for_a_gpu_this_machine_lacks_stops_before_any_work(
    toy: ToyRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["cloud", "run", "c3", "--backend", "local", "--gpu", "A100", "--config", str(toy.config)])
    err = capsys.readouterr().err
    assert code == 2 and "--gpu A100 asks for hardware this machine lacks" in err and err.count("\n") == 1
