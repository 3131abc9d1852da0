"""The committed tracking files (noise bands, triage, targets) and asv.conf.json: read, written, rejected."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from veracity.errors import ResultsError, TrackingFileError
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.noise import NoiseBand, NoiseFile
from veracity.tracking.targets import SEED_TARGETS, load_targets
from veracity.tracking.triage import load_triage


def test_noise_file_round_trips_and_keeps_other_machines(tmp_path: Path) -> None:
    path = tmp_path / "noise.json"
    noise = NoiseFile.load(path)
    noise.update("a", "c1", [NoiseBand("x.time_y", 0.07, 5, 0.02, 0.05)])
    noise.update("b", "c2", [NoiseBand("x.time_y", 0.2, 5, 0.06, 0.1)])
    noise.save()
    again = NoiseFile.load(path)
    assert again.band("a", "x.time_y").band == 0.07
    assert again.band("b", "x.time_y").band == 0.2
    assert again.band("c", "x.time_y") is None


def test_corrupt_noise_file_says_to_recalibrate(tmp_path: Path) -> None:
    path = tmp_path / "noise.json"
    path.write_text('{"version": 1, "machines": {"a": {"bands": {"k": {"band": "wide"}}}}}')
    with pytest.raises(TrackingFileError, match="veracity calibrate"):
        NoiseFile.load(path)


def test_interrupted_save_leaves_the_old_noise_file_whole(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "noise.json"
    noise = NoiseFile.load(path)
    noise.update("a", "c1", [NoiseBand("k", 0.07, 5, 0.02, 0.05)])
    noise.save()
    before = path.read_text()
    noise.update("a", "c2", [NoiseBand("k", 0.5, 5, 0.02, 0.05)])

    def crash(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError):
        noise.save()
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["noise.json"]


def test_triage_accepts_until_expiry(tmp_path: Path) -> None:
    path = tmp_path / "triage.toml"
    path.write_text(
        '[[accepted]]\nbenchmark = "nli.*"\nglob_reason = "one tokenizer for every NLI figure"\ncommit = "abc123"\n'
        'reason = "slower tokenizer, #12"\nexpires = 2026-01-31\n'
        '[[accepted]]\nbenchmark = "vs.S.time_q(10)"\ncommit = "abc123"\nreason = "x"\nexpires = 2026-01-31\n'
        'machine = "ci"\n'
    )
    triage = load_triage(path)
    assert triage.candidates("nli.T.track_pairs_per_second(8)", "box", dt.date(2026, 1, 31))
    assert not triage.candidates("nli.T.track_pairs_per_second(8)", "box", dt.date(2026, 2, 1))
    assert not triage.candidates("vs.S.time_q(10)", "box", dt.date(2026, 1, 1))
    assert triage.candidates("vs.S.time_q(10)", "ci", dt.date(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[accepted]]\nbenchmark = "x"\ncommit = "abc1"\nexpires = 2026-01-01\n', "needs a reason"),
        ('[[accepted]]\nbenchmark = "x"\ncommit = "abc1"\nreason = "r"\nexpires = "soon"\n', "YYYY-MM-DD"),
        ('[[accepted]]\nbenchmark = "x"\nreason = "r"\nexpires = 2026-01-01\n', "needs commit"),
        ('[[accepted]]\nbenchmark = "x.*"\ncommit = "abc1"\nreason = "r"\nexpires = 2026-01-01\n', "glob_reason"),
        ("[[accepted]\n", "triage"),
    ],
)
def test_bad_triage_file_says_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "triage.toml"
    path.write_text(text)
    with pytest.raises(TrackingFileError, match=message):
        load_triage(path)


def test_targets_default_to_the_seed_targets(tmp_path: Path) -> None:
    assert load_targets(tmp_path / "none.toml") == SEED_TARGETS
    assert {t.limit for t in SEED_TARGETS} >= {500, 2, 3, 60, 0.95}


def test_bad_targets_file(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text('[[target]]\ntitle = "x"\nbenchmark = "y"\nop = ">="\nlimit = 1\n')
    with pytest.raises(TrackingFileError, match="op must be"):
        load_targets(path)


def test_asv_conf_with_comments_and_trailing_commas(tmp_path: Path) -> None:
    path = tmp_path / "asv.conf.json"
    path.write_text(
        '{\n  // comment with "quotes"\n  "project": "p", "results_dir": ".asv/results",\n'
        '  "url": "http://x//y", "environment_type": "existing",\n}\n'
    )
    conf = AsvConfig.load(path)
    assert conf.results_dir == tmp_path / ".asv" / "results"
    assert conf.html_dir == tmp_path / "html"
    assert conf.uses_existing_env
    assert conf.noise_file == tmp_path / "benchmarks" / "noise.json"


def test_asv_config_from_asvs_own_config_object(tmp_path: Path, monkeypatch) -> None:
    from asv.config import Config

    monkeypatch.chdir(tmp_path)  # asv runs in the directory of its config file, paths relative to it
    conf = Config.from_json({"project": "p", "repo": ".", "results_dir": ".asv/results"})
    config = AsvConfig.from_asv_conf(conf)
    root = tmp_path.resolve()
    assert (config.root, config.repo, config.results_dir) == (root, root, root / ".asv" / "results")
    assert config.html_dir == root / "html" and config.project == "p"
    assert config.branches == ("",)  # asv's default branch: no branch to order commits along
    assert config.noise_file == root / "benchmarks" / "noise.json"
    assert config.triage_file == root / "benchmarks" / "triage.toml"
    assert config.targets_file == root / "benchmarks" / "targets.toml"
    conf = Config.from_json({"repo": ".", "branches": ["dev", "main"], "benchmark_dir": "suite"})
    assert AsvConfig.from_asv_conf(conf).branches == ("dev", "main")
    assert AsvConfig.from_asv_conf(conf).noise_file == root / "suite" / "noise.json"


def test_missing_or_broken_asv_conf(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="--config"):
        AsvConfig.load(tmp_path / "asv.conf.json")
    (tmp_path / "asv.conf.json").write_text("{")
    with pytest.raises(ResultsError, match="not valid JSON"):
        AsvConfig.load(tmp_path / "asv.conf.json")


def test_a_figure_too_noisy_for_a_band_under_100_percent_is_not_saved_so_the_file_stays_valid(tmp_path: Path) -> None:
    """A cold start that swings 40% between runs estimates a band past 100%: saved, it would make the noise
    file invalid for every later command (bands are fractions in (0, 1)); it is reported and left out."""
    from veracity.tracking.noise import estimate_band, estimate_paired_band
    from veracity.tracking.workflow import _usable_band

    wild = estimate_band("cold_start.ColdStart.track_phase_seconds('server_start')", [0.5, 0.9, 0.6, 1.3, 0.7])
    assert wild.band >= 1
    assert _usable_band(wild) is None
    steady = estimate_paired_band(estimate_band("x.time_y", [1.0, 1.02, 0.99]), [1.0, 3.5])
    assert steady.paired >= 1 and _usable_band(steady).paired is None and _usable_band(steady).band == steady.band

    path = tmp_path / "noise.json"
    noise = NoiseFile.load(path)
    noise.update("m", "c", [b for b in (_usable_band(wild), _usable_band(steady)) if b is not None])
    noise.save()
    assert NoiseFile.load(path).band("m", "x.time_y") is not None  # loads: no band past 1 was written


def test_a_recalibration_that_finds_a_figure_too_noisy_removes_its_older_band(tmp_path: Path) -> None:
    """Ten runs said server_init swings ±125% where five had said ±52%: judging it by the old band
    would flag the machine's own noise, so the older band goes with the new verdict."""
    from veracity.tracking.noise import estimate_band

    path = tmp_path / "noise.json"
    noise = NoiseFile.load(path)
    key = "cold_start.ColdStart.track_phase_seconds('server_init')"
    noise.update("m", "c1", [estimate_band(key, [0.5, 0.55, 0.6]), estimate_band("x.time_y", [1.0, 1.01])])
    noise.save()
    noise = NoiseFile.load(path)
    noise.update("m", "c2", [], drop=[key])
    noise.save()
    assert NoiseFile.load(path).band("m", key) is None
    assert NoiseFile.load(path).band("m", "x.time_y") is not None  # a figure not recalibrated keeps its band
