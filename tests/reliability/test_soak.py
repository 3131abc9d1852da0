"""scripts/soak.py, the memory-growth soak of the real pipeline: its slope, and a short real run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_helpers import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))

from soak import Sample, slope_per_minute


def test_slope_is_growth_per_minute() -> None:
    samples = [Sample(seconds=60.0 * i, rss_mb=500 + 2.5 * i, claims=i) for i in range(6)]
    assert slope_per_minute(samples) == pytest.approx(2.5)
    assert slope_per_minute(samples[:1]) == 0.0


@pytest.mark.models
@pytest.mark.slow
def test_a_short_soak_writes_its_result(tmp_path: Path) -> None:
    out = tmp_path / "soak.json"
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "soak.py"), "--minutes", "0.05", "--interval", "1",
         "--claims", "3", "--store", "numpy", "--output", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    result = json.loads(out.read_text())
    # Three seconds are too short to judge a leak (allocator warm-up dominates); the exit code follows the verdict.
    assert done.returncode == (0 if result["passed"] else 1), done.stderr[-3000:]
    assert result["claims_verified"] >= 3 and len(result["samples"]) >= 2 and result["cpu"]
    assert f"{result['slope_mb_per_min']:+.2f} MB/min" in done.stdout
