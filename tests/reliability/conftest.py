"""Fixtures of the reliability tests: an isolated HOME and git identity, and a hostile published project."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tracking"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the browser helper of test_asv_suite_e2e


@pytest.fixture(scope="module")
def isolated_home(asv_home: Path) -> Path:
    """The suite-wide isolated HOME and git identity (tests/conftest.py), under this suite's name."""
    return asv_home


@dataclass
class HostileSite:
    """A toy project benchmarked and published with secrets planted in the environment and markup in
    its commit message, branch, tag and benchmark parameters; everything the commands printed is kept."""

    repo: object
    results: Path
    html: Path
    reports: Path
    dsn: str = ""
    runs: list[subprocess.CompletedProcess] = field(default_factory=list)

    def runs_of(self, command: str) -> list[subprocess.CompletedProcess]:
        return [r for r in self.runs if r.args[3] == command]


def _log(site: HostileSite, done: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    site.runs.append(done)
    return done


@pytest.fixture(scope="session")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileSite]:
    from reliability_helpers import (
        HOSTILE_BRANCH,
        HOSTILE_MESSAGE,
        HOSTILE_SUITE,
        HOSTILE_TAG,
        HOSTILE_TARGETS,
        SECRETS,
        hostile_commit,
        private_cache,
        venv_toy,
        veracity,
    )

    from veracity.db.server import EmbeddedServer, stop_embedded

    root = tmp_path_factory.mktemp("hostile")
    identity = {"HOME": str(root / "home"), "OMP_NUM_THREADS": "1"}
    for role in ("AUTHOR", "COMMITTER"):
        identity |= {f"GIT_{role}_NAME": "toy", f"GIT_{role}_EMAIL": "toy@example.invalid"}
    (root / "home").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in identity.items():
            mp.setenv(name, value)
        mp.delenv("ASV_CONFIG", raising=False)
        repo = venv_toy(root / "toy", {"hostile.py": HOSTILE_SUITE})
        config = json.loads(repo.config.read_text().split("\n", 1)[1])
        config["branches"] = ["main", HOSTILE_BRANCH]
        repo.config.write_text(json.dumps(config, indent=2))
        (repo.root / "benchmarks" / "targets.toml").write_text(HOSTILE_TARGETS)
        base = hostile_commit(repo, "base")
        hostile = hostile_commit(repo, HOSTILE_MESSAGE, HOSTILE_TAG, throughput=0.7)
        repo.git("branch", HOSTILE_BRANCH, hostile)
    cache = private_cache(root / "cache")
    good_dsn = EmbeddedServer(cache, keep_running=True).start()
    planted_dsn = good_dsn.replace("postgres:@", f"postgres:{SECRETS['db-password']}@", 1)
    assert planted_dsn != good_dsn
    env = {
        **identity,
        **{k: v for k, v in SECRETS.items() if k.isupper()},
        "VERACITY_DATABASE_URL": planted_dsn,
        "ASV_CONFIG": "",
    }
    site = HostileSite(repo, repo.root / ".asv" / "results", repo.root / "html", root / "reports", good_dsn)
    site.reports.mkdir()
    try:
        bench = ["bench", "--config", str(repo.config), "--cache-dir", str(cache)]
        done = _log(site, veracity(*bench, "--commits", "2", cwd=repo.root, env=env, timeout=500))
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        config_args = ["--config", str(repo.config)]
        for fmt, ext in (("--markdown", "md"), ("--json", "json")):
            for command in (["regressions"], ["targets"], ["compare", base, hostile, "--rerun", "0"]):
                out = str(site.reports / f"{command[0]}.{ext}")
                _log(site, veracity(*command, *config_args, fmt, "-o", out, env=env))
        _log(site, veracity("regressions", *config_args, env=env))
        # The same secrets where things fail: unreachable servers, malformed DSNs, a benchmark run on a dead DSN.
        password = SECRETS["db-password"]
        for dsn in (
            f"postgresql://alice:{password}@127.0.0.1:1/nowhere",
            f"postgresql://alice:{password}@127.0.0.1:notaport/db",
            f"host=127.0.0.1 port=1 user=alice password={password} dbname=x",
            f"postgresql://alice@127.0.0.1:1/db?password={password}",
        ):
            _log(site, veracity("verify", "a claim", "--store", "pgvector", env={**env, "VERACITY_DATABASE_URL": dsn}))
        hostile_commit(repo, "after", throughput=0.7)
        dead = {**env, "VERACITY_DATABASE_URL": f"postgresql://alice:{password}@127.0.0.1:1/nowhere"}
        _log(site, veracity(*bench, "--commits", "1", "--no-publish", cwd=repo.root, env=dead, timeout=500))
        yield site
    finally:
        stop_embedded(cache)
