"""The house rules of issue 16, kept: small modules, one errors module, one place that spells asv's command line."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "veracity"


def _modules() -> list[Path]:
    return [p for p in SRC.rglob("*.py") if "data" not in p.relative_to(SRC).parts[:1]]


def test_no_module_under_src_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules() if (n := len(p.read_text().splitlines())) > 400}
    assert not long, f"split these by concern: {long}"


def test_the_suites_common_module_stays_small() -> None:
    assert len((ROOT / "benchmarks" / "common.py").read_text().splitlines()) <= 220


def test_one_errors_module() -> None:
    assert [p.relative_to(SRC).as_posix() for p in _modules() if "error" in p.stem] == ["errors.py"]


def test_one_function_spells_an_asv_command_line() -> None:
    spelled = [
        p.relative_to(SRC).as_posix()
        for p in _modules()
        if re.search(r'"-m",\s*"asv"|\["asv",|/ "asv"|with_name\("asv"\)', p.read_text())
    ]
    assert spelled == ["tracking/asvrun.py"]
    text = (SRC / "tracking" / "asvrun.py").read_text()
    assert len(re.findall(r'"-m",\s*"asv"', text)) == 1 and "def asv_argv(" in text


def test_bench_does_not_reach_back_into_the_command_line() -> None:
    for path in (SRC / "bench").glob("*.py"):
        assert not re.search(r"veracity\.cli|tracking\.cli|tracking import cli", path.read_text()), path
