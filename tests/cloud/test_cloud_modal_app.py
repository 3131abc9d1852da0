"""The Modal app: its container body runs here with `.local()`, and only the call into Modal's cloud is replaced."""

from __future__ import annotations

import contextlib
import json
import socket
from pathlib import Path

import modal
import pytest
from toy_suite import ToyRepo

from veracity.cli import main
from veracity.cloud import modal_app
from veracity.cloud.gitbundle import create_bundle
from veracity.cloud.shard import ShardRequest, asv_version, run_shard
from veracity.tracking.machine import current
from veracity.tracking.results import ResultsStore

LOCAL_VOLUME_WARNING = "ignore:.*will not have access to the mounted Volume:UserWarning"


def test_the_app_is_named_in_kebab_case_with_named_timeouts() -> None:
    assert modal_app.app.name == "veracity-bench"
    assert modal_app.SHARD_TIMEOUT == 120 * modal_app.MINUTES
    assert modal_app.WARMUP_TIMEOUT == 20 * modal_app.MINUTES


@pytest.fixture(scope="module")
def toy(asv_home: Path, tmp_path_factory: pytest.TempPathFactory) -> ToyRepo:
    repo = ToyRepo(tmp_path_factory.mktemp("modal") / "toy")
    repo.commit("c0")
    repo.commit("c1", throughput=0.8)
    repo.commit("c2")
    return repo


def _values(text: str) -> dict[str, object]:
    data = json.loads(text)
    return {name: row[0] for name, row in data["results"].items()}


@pytest.mark.asv
@pytest.mark.filterwarnings(LOCAL_VOLUME_WARNING)
def test_the_container_body_measures_its_shard_and_registers_its_machine(
    toy: ToyRepo, asv_home: Path, tmp_path: Path
) -> None:
    bundle = create_bundle(toy.root, tmp_path / "repo.bundle")
    request = ShardRequest(index=0, commits=(toy.commits["c1"], toy.commits["c2"]), head=toy.commits["c2"], quick=True)
    runner = modal_app.BenchRunner(volume_root=str(tmp_path / "vol"), warm_models=False)

    output = runner.run_shard.local(bundle.read_bytes(), request.to_json())

    machine = current().machine_name
    manifest = output["manifest"]
    assert (manifest["machine"], manifest["errors"], manifest["asv_version"]) == (machine, [], asv_version())
    files = output["files"]
    assert {"benchmarks.json", f"{machine}/machine.json"} <= set(files)
    results = [text for name, text in files.items() if name.startswith(f"{machine}/") and "machine.json" not in name]
    by_commit = {json.loads(text)["commit_hash"]: _values(text) for text in results}
    assert set(by_commit) == {toy.commits["c1"], toy.commits["c2"]}
    assert by_commit[toy.commits["c1"]]["bench.Suite.track_items_per_second"] == [800.0]
    # The machine record of the container carries the fingerprint, and a copy of the output is on the volume.
    record = json.loads((asv_home / ".asv-machine.json").read_text())[machine]
    assert record["cpu"] == current().cpu_description() and record["torch"] == current().torch
    assert list((tmp_path / "vol" / "runs").glob("*/shard-0/shard.json"))


@pytest.mark.asv
@pytest.mark.filterwarnings(LOCAL_VOLUME_WARNING)
def test_the_cloud_call_gets_one_pinned_input_per_shard_and_its_outputs_are_merged(
    toy: ToyRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, object] = {}
    real_with_options = modal_app.BenchRunner.with_options

    def spy_with_options(**options: object):
        seen["options"] = options
        return real_with_options(**options)

    def cloud_starmap(self, inputs, **kwargs):
        """Stands in for Modal's cloud: records what it is sent, then runs the real container body here."""
        seen["inputs"], seen["kwargs"] = list(inputs), kwargs
        runner = modal_app.BenchRunner(volume_root=str(tmp_path / "vol"), warm_models=False)
        return iter([runner.run_shard.local(*args) for args in seen["inputs"]])

    # The two calls into Modal's cloud: starting the app and fanning the inputs out.
    monkeypatch.setattr(modal_app.app, "run", contextlib.nullcontext)
    monkeypatch.setattr(modal.Function, "starmap", cloud_starmap)
    monkeypatch.setattr(modal_app.BenchRunner, "with_options", spy_with_options)
    monkeypatch.setenv("MODAL_TOKEN_ID", "ak-test")
    monkeypatch.setenv("MODAL_TOKEN_SECRET", "as-test")
    with socket.create_server(("127.0.0.1", 0)) as server:  # a reachable "Modal server" for the pre-flight check
        monkeypatch.setenv("MODAL_SERVER_URL", f"http://127.0.0.1:{server.getsockname()[1]}")
        argv = ["cloud", "run", "c0..c2", "--gpu", "H100", "--shards", "2", "--quick", "--config", str(toy.config)]
        code = main(argv)

    assert code == 0, capsys.readouterr()
    assert seen["options"] == {"gpu": "H100"}
    assert seen["kwargs"] == {"order_outputs": True, "return_exceptions": True}
    (bundle0, request0), (bundle1, request1) = seen["inputs"]
    assert bundle0 == bundle1 and bundle0.startswith(b"# v2 git bundle\n")
    common = {"head": toy.commits["c2"], "config": "asv.conf.json", "bench": [], "quick": True, "machine": None}
    assert request0 == {"index": 0, "commits": [toy.commits["c1"]], **common}
    assert request1 == {"index": 1, "commits": [toy.commits["c2"]], **common}
    store = ResultsStore(toy.root / ".asv" / "results")
    assert {toy.commits["c1"], toy.commits["c2"]} <= set(store.commits(current().machine_name))


@pytest.mark.asv
def test_a_commit_missing_from_the_bundle_is_reported_and_the_others_still_measured(
    toy: ToyRepo, tmp_path: Path
) -> None:
    bundle = create_bundle(toy.root, tmp_path / "repo.bundle")
    unknown = "f" * 40
    request = ShardRequest(index=1, commits=(unknown, toy.commits["c0"]), head=toy.commits["c2"], quick=True)
    output = run_shard(bundle, tmp_path / "work", request)
    assert output.errors == (f"commit {unknown[:8]} is not in the bundle (not reachable from HEAD, a branch or a tag)",)
    assert output.commits == (toy.commits["c0"],)
    assert any(json.loads(text).get("commit_hash") == toy.commits["c0"] for text in output.files.values())
