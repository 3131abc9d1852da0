"""Fixtures of the cloud tests: the tracker's toy asv suite and sample result files, an isolated HOME, git repos."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The toy suite and the sample result files are the tracker's; reuse them rather than copy them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tracking"))

from cloud_helpers import GIT_IDENTITY


@pytest.fixture(scope="module")
def asv_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HOME and git identity for asv and git, so the user's ~/.asv-machine.json is never touched.

    VERACITY_DATABASE_URL is set so the local backend starts no embedded PostgreSQL (the toy suite
    never connects to it), and VERACITY_CACHE_DIR so the shards' clones stay in this temporary HOME.
    """
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        for key, value in GIT_IDENTITY.items():
            mp.setenv(key, value)
        mp.setenv("OMP_NUM_THREADS", "1")
        mp.setenv("VERACITY_CACHE_DIR", str(home / ".cache" / "veracity"))
        mp.setenv("VERACITY_DATABASE_URL", "postgresql://toy-suite-never-connects")
        for key in ("ASV_CONFIG", "MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET", "MODAL_CONFIG_PATH", "MODAL_PROFILE"):
            mp.delenv(key, raising=False)
        yield home
