"""Shared fixtures: real models and the real embedded PostgreSQL, loaded once per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from veracity.config import Settings, default_cache_dir


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    """The real cache, so the NLI model built once is reused by every later run."""
    return default_cache_dir()


@pytest.fixture(scope="session")
def settings(cache_dir: Path) -> Settings:
    return Settings(cache_dir=cache_dir)


@pytest.fixture(scope="session")
def first_use(settings: Settings) -> Settings:
    """Everything a first `veracity verify` builds (NLI model, ONNX graphs, corpus embeddings), built here
    in-process and cached, so a test that starts `veracity` in a subprocess never builds it under a
    timeout on a cold cache (`make install` builds it too)."""
    from veracity.pipeline.session import prepare_first_use

    prepare_first_use(settings)
    return settings


@pytest.fixture(scope="session")
def embedder(settings: Settings):
    from veracity.pipeline.session import load_embedder

    return load_embedder(settings)


@pytest.fixture(scope="session")
def nli_model(settings: Settings):
    from veracity.pipeline.session import load_nli

    return load_nli(settings)


@pytest.fixture(scope="session")
def database_dsn(settings: Settings) -> Iterator[str]:
    """A DSN for VERACITY_DATABASE_URL if set, else the embedded server, stopped at the end."""
    from veracity.db.server import database

    with database(os.environ.get("VERACITY_DATABASE_URL"), settings.cache_dir) as target:
        yield target.dsn


@pytest.fixture(scope="module")
def asv_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """HOME and git identity for asv and git, so the user's ~/.asv-machine.json is never touched."""
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(home))
        for var in ("GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"):
            mp.setenv(var, "toy")
        for var in ("GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"):
            mp.setenv(var, "toy@example.invalid")
        mp.setenv("OMP_NUM_THREADS", "1")
        mp.delenv("ASV_CONFIG", raising=False)
        mp.delenv("VERACITY_DATABASE_URL", raising=False)
        yield home
