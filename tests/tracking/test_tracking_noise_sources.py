"""Every verdict says where its noise figure came from; a new machine borrows its hardware class's band.

Issue 17, the parts that need no calibration campaign: a committed calibration is a prior keyed by
hardware class, every report names the source of each threshold, and a noise file whose bands are
not fractions is refused with one line.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from veracity.cli.main import main
from veracity.errors import TrackingFileError
from veracity.tracking.detect import compare_results
from veracity.tracking.noise import NoiseBand, NoiseFile, hardware_class
from veracity.tracking.report import comparison_to_json, comparison_to_markdown, comparison_to_text
from veracity.tracking.results import BenchmarkInfo, BenchmarkResult
from veracity.tracking.stats import sd_upper_limit_factor

KEY = "embedding.EncodeBatch.time_encode_batch(32)"
NAME = "embedding.EncodeBatch.time_encode_batch"
INFO = {NAME: BenchmarkInfo(NAME, "time", "seconds", False, params=(("32",),), param_names=("batch",))}


def _noise(tmp_path: Path, machine: str = "amd-epyc-7b13-2c-avx512", band: float = 0.12) -> NoiseFile:
    noise = NoiseFile(tmp_path / "noise.json")
    noise.update(machine, "c" * 40, [NoiseBand(KEY, band, 5, 0.01, 0.02, paired=band / 2, pairs=5)])
    return noise


@pytest.mark.parametrize(
    ("machine", "kind"),
    [
        ("amd-epyc-2c-avx512", "amd-epyc-2c-avx512"),
        ("amd-epyc-9r14-2c-avx512", "amd-epyc-2c-avx512"),
        ("intel-xeon-platinum-8481c-2c-avx512", "intel-xeon-2c-avx512"),
        ("amd-epyc-2c-avx2", "amd-epyc-2c-avx2"),
        ("amd-epyc-2c-avx512-nvidia-h100-80gb-hbm3-cuda12.8", "amd-epyc-2c-avx512-nvidia-h100-80gb-hbm3-cuda12.8"),
        ("my-laptop", None),
    ],
)
def test_hardware_class_is_vendor_family_cores_isa_and_gpu(machine: str, kind: str | None) -> None:
    assert hardware_class(machine) == kind


def test_a_new_machine_borrows_the_band_of_its_class_and_says_so(tmp_path: Path) -> None:
    noise = _noise(tmp_path)
    here = noise.noise_for("amd-epyc-7b13-2c-avx512", KEY)
    assert here is not None and here.source == "band calibrated on this machine"
    twin = noise.noise_for("amd-epyc-9r14-2c-avx512", KEY, paired=True)
    assert twin is not None and twin.band == pytest.approx(math.expm1(math.log(1.06) * sd_upper_limit_factor(5)))
    assert twin.source == (
        "paired band prior from class amd-epyc-2c-avx512 (calibrated on amd-epyc-7b13-2c-avx512):"
        " 6.0% from 5 pairs, widened to 12.9%"
    )
    assert noise.noise_for("amd-epyc-9r14-2c-avx2", KEY) is None  # another ISA level is another class
    assert noise.noise_for("amd-epyc-9r14-4c-avx512", KEY) is None  # and so are other core counts


def test_a_prior_is_widened_by_the_upper_confidence_limit_of_its_sigma(tmp_path: Path) -> None:
    """A band from n runs estimates a sigma with n-1 degrees of freedom; at 95% the true one may be
    sqrt((n-1) / chi2_0.05(n-1)) times it. Here that factor is checked against scipy, and applied."""
    chi2 = pytest.importorskip("scipy.stats").chi2
    for dof in range(1, 90):
        assert sd_upper_limit_factor(dof) == pytest.approx(math.sqrt(dof / chi2.ppf(0.05, dof)), rel=1e-3)
    assert sd_upper_limit_factor(0) == math.inf
    assert [round(sd_upper_limit_factor(n - 1), 2) for n in (4, 5, 6)] == [2.92, 2.37, 2.09]
    noise = _noise(tmp_path)  # 12% from 5 runs, 6% paired from 5 pairs
    assert noise.noise_for("amd-epyc-7b13-2c-avx512", KEY).band == pytest.approx(0.12)  # here: as calibrated
    prior = noise.noise_for("amd-epyc-9r14-2c-avx512", KEY)
    assert prior is not None and prior.band == pytest.approx(math.expm1(math.log(1.12) * 2.3724), rel=1e-4)
    one_run = NoiseFile(tmp_path / "one.json")
    one_run.update("amd-epyc-7b13-2c-avx512", "c" * 40, [NoiseBand(KEY, 0.02, 1, 0.0, 0.0)])
    assert one_run.noise_for("amd-epyc-9r14-2c-avx512", KEY) is None  # one run says nothing about its spread


def test_every_report_names_the_source_of_each_threshold(tmp_path: Path) -> None:
    before = [BenchmarkResult(NAME, ("32",), 1.00, None, "a" * 40, "m", "env")]
    after = [BenchmarkResult(NAME, ("32",), 1.08, None, "b" * 40, "m", "env")]
    for machine, source, verdict in (
        ("amd-epyc-9r14-2c-avx512", "band prior from class amd-epyc-2c-avx512", "unchanged"),  # 8% < 12%
        ("my-laptop", "no noise figure for this machine: blanket 5%", "worse"),
    ):
        rows = compare_results(before, after, benchmarks=INFO, noise=_noise(tmp_path), machine=machine)
        row = json.loads(comparison_to_json(rows, "a" * 40, "b" * 40))["rows"][0]
        assert row["noise_source"].startswith(source) and row["verdict"] == verdict
        assert source in comparison_to_text(rows, "a" * 40, "b" * 40)
        assert source in comparison_to_markdown(rows, "a" * 40, "b" * 40)


@pytest.mark.parametrize("band", [0.0, 1.5, -0.1, "wide"])
def test_a_band_that_is_not_a_fraction_is_refused(tmp_path: Path, band: object) -> None:
    path = tmp_path / "noise.json"
    data = {"version": 1, "machines": {"m": {"bands": {KEY: {"band": band, "runs": 3}}}}}
    path.write_text(json.dumps(data))
    with pytest.raises(TrackingFileError, match="noise file"):
        NoiseFile.load(path)


@pytest.mark.parametrize(
    "text",
    ['{"version": 2, "machines": {}}', "{trunc", '{"version": 1, "machines": {"m": {"bands": {"k": {"band": 7}}}}}'],
)
def test_a_bad_noise_file_is_one_line_and_exit_2(tmp_path: Path, capsys, text: str) -> None:
    from asv_samples import make_results_dir

    config = tmp_path / "asv.conf.json"
    config.write_text(json.dumps({"version": 1, "project": "p", "results_dir": "results"}))
    make_results_dir(tmp_path / "results")
    noise = tmp_path / "noise.json"
    noise.write_text(text)
    assert main(["regressions", "--config", str(config), "--noise-file", str(noise)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("veracity: error:") and "noise" in err[0]


def test_a_noise_file_for_other_machines_only_is_not_an_error(tmp_path: Path, capsys) -> None:
    from asv_samples import make_results_dir

    config = tmp_path / "asv.conf.json"
    config.write_text(json.dumps({"version": 1, "project": "p", "results_dir": "results"}))
    make_results_dir(tmp_path / "results")
    noise = _noise(tmp_path)
    noise.save()
    assert main(["regressions", "--config", str(config), "--noise-file", str(noise.path)]) == 0
