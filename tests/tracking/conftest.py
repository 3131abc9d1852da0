"""Fixtures of the tracker's tests: an isolated HOME and git identity for real asv runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def asv_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HOME and git identity for asv and git, so ~/.asv-machine.json of the user is never touched."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
            mp.setenv(var, "toy")
        for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
            mp.setenv(var, "toy@example.invalid")
        mp.setenv("OMP_NUM_THREADS", "1")
        mp.delenv("ASV_CONFIG", raising=False)
        yield home
