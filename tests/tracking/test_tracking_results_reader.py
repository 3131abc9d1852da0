"""The asv 0.6 results reader: real format, direction from units, and one clear error per bad file."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from asv_samples import COMMIT, make_results_dir, result_file_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from veracity.errors import ResultsError
from veracity.tracking.results import ResultsStore, parse_result_file


def test_reads_values_samples_params_and_direction(tmp_path: Path) -> None:
    store = ResultsStore(make_results_dir(tmp_path))
    assert store.pick_machine(None) == "toybox"
    results = {r.key: r for r in store.results_for("toybox", COMMIT)}
    assert results["bench.Params.time_param(10)"].samples == (0.00113, 0.00109, 0.00108)
    assert results["bench.Params.time_param(20)"].value is None  # failed
    assert not results["bench.Suite.time_skipped"].ok  # NaN: skipped
    assert results["bench.Suite.track_items_per_second"].value == 1000.0
    info = store.benchmarks()["bench.Suite.track_items_per_second"]
    assert (info.unit, info.higher_is_better) == ("items/s", True)
    assert store.resolve_commit("toybox", COMMIT[:6]) == COMMIT


def test_truncated_file_names_the_file_and_what_to_do(tmp_path: Path) -> None:
    make_results_dir(tmp_path)
    bad = tmp_path / "toybox" / f"{COMMIT[:8]}-existing-py.json"
    bad.write_text(bad.read_text()[:100])
    with pytest.raises(ResultsError, match=r"-existing-py\.json: is truncated or not JSON.*delete the file or re-run"):
        ResultsStore(tmp_path).results_for("toybox", COMMIT)


def test_other_format_version_says_to_update(tmp_path: Path) -> None:
    data = result_file_data()
    data["version"] = 1
    make_results_dir(tmp_path, data)
    with pytest.raises(ResultsError, match=r"format version 1.*asv update"):
        ResultsStore(tmp_path).result_files("toybox")


def test_several_machines_need_a_choice(tmp_path: Path) -> None:
    make_results_dir(tmp_path)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "machine.json").write_text(json.dumps({"machine": "other", "version": 1}))
    with pytest.raises(ResultsError, match="--machine"):
        ResultsStore(tmp_path).pick_machine(None)


def test_missing_results_dir_says_to_run_asv(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="asv run"):
        ResultsStore(tmp_path / "nothing").pick_machine(None)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=10,
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(list(result_file_data())), json_values, max_size=10))
def test_any_mangled_result_file_is_read_or_rejected_with_a_results_error(tmp_path: Path, mangled: dict) -> None:
    data = {**result_file_data(), **mangled}
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data))
    try:
        parse_result_file(path)
    except ResultsError as exc:
        assert str(path) in str(exc)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.binary(max_size=300))
def test_any_bytes_are_read_or_rejected_with_a_results_error(tmp_path: Path, blob: bytes) -> None:
    path = tmp_path / "f.json"
    path.write_bytes(blob)
    with contextlib.suppress(ResultsError):
        parse_result_file(path)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(json_values)
def test_any_rows_are_read_or_rejected_with_a_results_error(tmp_path: Path, row) -> None:
    data = result_file_data()
    data["results"]["bench.Suite.track_items_per_second"] = row
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data))
    with contextlib.suppress(ResultsError):
        parse_result_file(path)
