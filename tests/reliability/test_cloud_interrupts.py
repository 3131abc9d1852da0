"""`veracity cloud run --backend local` under SIGINT and SIGTERM, and with planted secrets.

The signals are real and go to a real `veracity cloud run` process while one of its shards' asv
has half written a result file (faultinject/sitecustomize.py pauses the write). Afterwards the
local results and html/ must be byte for byte what they were, no process of the run may be
left (shards, their asv process groups, the embedded PostgreSQL the run started), its staging
and temporary folders must be gone, and a re-run must measure exactly the commits still missing.
Every run of this module has Modal tokens and other secrets planted in its environment; the last
test adds a DSN password, and searches everything the runs printed and wrote for any of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from reliability_helpers import SECRETS, assert_one_line_error, postgres_processes, results_of, snapshot, wait_for
from toy_suite import ToyRepo

from veracity.cloud.local_runner import _alive
from veracity.cloud.planning import measured_commits, resolve_range

pytestmark = [pytest.mark.asv, pytest.mark.db, pytest.mark.slow]

FAULTINJECT = Path(__file__).resolve().parent / "faultinject"
INTERRUPTED = "veracity: interrupted; no file was left half written (re-run to resume)"
PASSWORD = SECRETS["db-password"]
RANGE = "c0..HEAD"

# Through the DSN of the run (VERACITY_DATABASE_URL): proves it reached the benchmarks.
DB_BENCHMARK = """
import os


class Database:
    def track_connects(self):
        import psycopg

        with psycopg.connect(os.environ["VERACITY_DATABASE_URL"], connect_timeout=5) as conn:
            return float(conn.execute("SELECT 1").fetchone()[0])

    track_connects.unit = "connections"
"""


class CloudProject:
    """A toy project measured by `veracity cloud run` and published; every run's output is kept."""

    def __init__(self, root: Path, repo: ToyRepo) -> None:
        self.root = root
        self.repo = repo
        self.cache = root / "cache"
        self.tmp = root / "tmp"
        self.results = repo.root / ".asv" / "results"
        self.html = repo.root / "html"
        self.runs: list[tuple[str, str]] = []

    def env(self, **extra: str) -> dict[str, str]:
        """This machine's environment without any Modal, veracity or asv setting, plus the planted secrets."""
        kept = {k: v for k, v in os.environ.items() if not k.startswith(("MODAL_", "VERACITY_", "ASV_"))}
        planted = {k: v for k, v in SECRETS.items() if k.isupper()}
        return {**kept, **planted, "VERACITY_CACHE_DIR": str(self.cache), "TMPDIR": str(self.tmp), **extra}

    def start(self, *args: str, env: dict[str, str]) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "veracity.cli", *args],
            cwd=self.repo.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            # SIGINT as at a terminal, even when pytest itself was started with it ignored.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )

    def finish(self, process: subprocess.Popen, timeout: float) -> tuple[int, str, str]:
        out, err = process.communicate(timeout=timeout)
        self.runs.append((out, err))
        return process.returncode, out, err

    def run(self, *args: str, timeout: float = 240, **extra: str) -> tuple[int, str, str]:
        return self.finish(self.start(*args, env=self.env(**extra)), timeout)

    def cloud_run(self, **extra: str) -> tuple[int, str, str]:
        return self.run("cloud", "run", RANGE, "--backend", "local", "--shards", "2", "--quick", *self.config, **extra)

    @property
    def config(self) -> tuple[str, str]:
        return ("--config", str(self.repo.config))

    def measured(self) -> set[str]:
        machines = [p.name for p in self.results.iterdir() if p.is_dir()] if self.results.is_dir() else []
        return measured_commits(self.results, machines)

    def shard_logs(self) -> list[Path]:
        return sorted(self.cache.glob("cloud-shards/*/shard-*/shard.log"))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudProject]:
    root = tmp_path_factory.mktemp("cloud-interrupts")
    with pytest.MonkeyPatch.context() as mp:  # for ToyRepo's own git and asv calls
        mp.setenv("HOME", str(root / "home"))
        for role in ("AUTHOR", "COMMITTER"):
            mp.setenv(f"GIT_{role}_NAME", "toy")
            mp.setenv(f"GIT_{role}_EMAIL", "toy@example.invalid")
        mp.setenv("OMP_NUM_THREADS", "1")
        (root / "home").mkdir()
        repo = ToyRepo(root / "toy")
        (repo.root / "benchmarks" / "db.py").write_text(DB_BENCHMARK)
        for label in ("c0", "c1", "c2"):
            repo.commit(label)
        cloud = CloudProject(root, repo)
        cloud.tmp.mkdir()
        code, out, err = cloud.cloud_run()
        assert code == 0, out[-3000:] + err[-3000:]
        code, out, err = cloud.run("publish", "--quiet", *cloud.config)
        assert code == 0 and (cloud.html / "index.json").is_file(), out[-3000:] + err[-3000:]
        assert cloud.measured() == {repo.commits["c1"], repo.commits["c2"]}
        yield cloud


def _cmdline(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:
        return ""


def _run_processes(root: Path) -> list[str]:
    """Live processes whose command line names a path of this test project (shards, asv, git, servers)."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["pid"] != os.getpid() and str(root) in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.parametrize(
    ("sig", "paused"),
    [(signal.SIGINT, 0), (signal.SIGTERM, 2)],
    ids=["SIGINT-first-commit-of-shard-0", "SIGTERM-second-commit-of-shard-0"],
)
def test_cloud_run_interrupted_while_a_shard_writes_keeps_everything_and_resumes(
    project: CloudProject, tmp_path: Path, sig: signal.Signals, paused: int
) -> None:
    repo = project.repo
    for i in range(max(2, paused + 1)):  # both shards busy; shard 0 has the commit to pause at
        repo.commit(f"{sig.name.lower()}-{i}")
    in_range = resolve_range(repo.root, RANGE)
    before_measured = project.measured() & set(in_range)
    missing = [c for c in in_range if c not in before_measured]
    assert len(missing) > paused
    before = snapshot(project.results), snapshot(project.html)
    temporary = sorted(p.name for p in project.tmp.iterdir())

    # Shards are dealt round-robin: shard 0 measures missing[0], then missing[2]; its asv pauses
    # half-way through the chosen commit's result file, the other shard goes on meanwhile.
    marker = tmp_path / "writing"
    fault = {
        "PYTHONPATH": str(FAULTINJECT),
        "VERACITY_FAULT": "pause",
        "VERACITY_FAULT_PATHS": f"*/shard-0/repo/.asv/results/*/{missing[paused][:8]}-*.json",
        "VERACITY_FAULT_MARKER": str(marker),
    }
    argv = ["cloud", "run", RANGE, "--backend", "local", "--shards", "2", "--quick", *project.config]
    process = project.start(*argv, env=project.env(**fault))
    wait_for(marker.exists, 180, "a shard's asv to start writing a result file", process)
    tree = psutil.Process(process.pid).children(recursive=True)
    assert any("veracity.cloud.shard" in _cmdline(p) for p in tree)
    assert postgres_processes(project.cache / "pgdata"), "the run should have started its embedded PostgreSQL"
    process.send_signal(sig)
    code, out, err = project.finish(process, timeout=90)

    assert code == 130, out[-3000:] + err[-3000:]
    assert err.strip().splitlines() == [INTERRUPTED], err[-3000:]
    assert [_cmdline(p) for p in tree if _alive(p)] == [], "processes of the run outlived it"
    assert _run_processes(project.root) == []
    assert postgres_processes(project.cache / "pgdata") == [], "the embedded PostgreSQL was left running"
    assert sorted(p.name for p in project.tmp.iterdir()) == temporary, "staging or temporary folders left behind"
    assert (snapshot(project.results), snapshot(project.html)) == before, "a previous file changed or a partial stayed"
    shard_log = next(log for log in project.shard_logs() if log.parent.name == "shard-0").read_text()
    assert "shard 0: interrupted; its asv was stopped" in shard_log, "the shard was killed, not stopped"

    code, out, err = project.cloud_run()
    assert code == 0, out[-3000:] + err[-3000:]
    assert f"{len(before_measured)} of {len(in_range)} commit(s) already measured" in out
    assert f"measuring {len(missing)} commit(s) in 2 shard(s)" in out
    assert project.measured() >= set(in_range)
    assert sorted(p.name for p in project.tmp.iterdir()) == temporary
    after = snapshot(project.results)
    kept = {k: v for k, v in before[0].items() if k != "benchmarks.json"}
    assert {k: after[k] for k in kept} == kept, "the re-run changed results that were already whole"


def test_planted_secrets_reach_no_output_result_log_or_page(project: CloudProject) -> None:
    code, dsn, err = project.run("db", "start", "--cache-dir", str(project.cache))
    assert code == 0, err
    dsn = dsn.strip()
    planted = dsn.replace("postgres:@", f"postgres:{PASSWORD}@", 1)  # the embedded server accepts any password
    assert planted != dsn
    try:
        new = project.repo.commit("secret-1")
        code, out, err = project.cloud_run(VERACITY_DATABASE_URL=planted)
        assert code == 0, out[-3000:] + err[-3000:]
        assert results_of(project.repo)[f"{new[:8]}:db.Database.track_connects"] == [1.0], "the DSN was not used"
        code, out, err = project.run("publish", "--quiet", *project.config)
        assert code == 0, out[-3000:] + err[-3000:]
        # The Modal backend, credentials incomplete or Modal unreachable: one line, exit 2, no token in it.
        argv = ("cloud", "run", RANGE, "--gpu", "H100", *project.config)
        nowhere = {"MODAL_CONFIG_PATH": str(project.root / "no-modal.toml"), "VERACITY_DATABASE_URL": planted}
        for drop in ("MODAL_TOKEN_SECRET", "MODAL_TOKEN_ID"):
            env = {k: v for k, v in project.env(**nowhere).items() if k != drop}
            code, out, err = project.finish(project.start(*argv, env=env), timeout=60)
            assert_one_line_error(code, err, "no Modal credentials", f"{drop} not set")
        code, out, err = project.run(*argv, MODAL_SERVER_URL="http://127.0.0.1:1", **nowhere)
        assert_one_line_error(code, err, "cannot reach Modal at 127.0.0.1:1")
    finally:
        project.run("db", "stop", "--cache-dir", str(project.cache))

    logs = project.shard_logs()
    assert len(logs) == 2 and all(log.read_text() for log in logs)
    haystacks = {f"run {i}": (out + err).encode() for i, (out, err) in enumerate(project.runs)}
    for folder in (project.results, project.html, project.cache / "cloud-shards"):
        haystacks |= {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts}
    assert any(name.endswith("shard.log") for name in haystacks) and any("index.json" in n for n in haystacks)
    leaks = [(name, s) for name, blob in haystacks.items() for s in SECRETS.values() if s.encode() in blob]
    assert leaks == []
