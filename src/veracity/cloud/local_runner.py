"""The local backend: shards as parallel processes on this machine, each with its own clone and HOME.

Each process runs the same shard body as a Modal container (`python -m veracity.cloud.shard`).
Each gets its own HOME because `asv run` rewrites ~/.asv-machine.json non-atomically when it
starts, and two shards starting together could read each other's half-written file; the caches
and pip configuration are pinned to the user's real ones so nothing is downloaded or built twice.
Their temporary files go to one short-named folder of the run (asv's forkserver socket lives
there, and a socket path may not be long), removed when the run ends, however it ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import psutil

from veracity.cloud.shard import ShardRequest
from veracity.config import default_cache_dir
from veracity.fsutil import signals_deferred
from veracity.tracking.asvrun import STOP_GRACE_S
from veracity.tracking.machine import Fingerprint, record_machine

LOG_TAIL_LINES = 8
LOG_NAME = "shard.log"
# A stopped shard first gives its own asv STOP_GRACE_S to stop; it gets that and a margin.
SHARD_STOP_GRACE_S = STOP_GRACE_S + 10
_REAP_S = 5


def shard_environment(
    workdir: Path, fingerprint: Fingerprint, extra: Mapping[str, str], tmpdir: Path | None = None
) -> dict[str, str]:
    """The variables of one shard process: a private HOME holding this machine's record, shared caches."""
    home = workdir / "home"
    record_machine(fingerprint, home / ".asv-machine.json")
    real_home = Path.home()
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME") or str(real_home / ".cache"),
        "XDG_CONFIG_HOME": os.environ.get("XDG_CONFIG_HOME") or str(real_home / ".config"),
        "VERACITY_CACHE_DIR": str(default_cache_dir()),
        **extra,
    }
    if tmpdir is not None:
        tmpdir.mkdir(parents=True, exist_ok=True)
        env["TMPDIR"] = str(tmpdir)
    legacy_pip = real_home / ".pip" / "pip.conf"
    if legacy_pip.is_file() and "PIP_CONFIG_FILE" not in env:
        env["PIP_CONFIG_FILE"] = str(legacy_pip)
    return env


def _tail(log: Path) -> str:
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " / ".join(lines[-LOG_TAIL_LINES:])


def _descendants(processes: Iterable[subprocess.Popen]) -> list[psutil.Process]:
    """Every live process started under `processes`, asv's own sessions included."""
    found: list[psutil.Process] = []
    for process in processes:
        with contextlib.suppress(psutil.Error):
            found += psutil.Process(process.pid).children(recursive=True)
    return found


def _alive(process: psutil.Process) -> bool:
    """Running and not a zombie (an orphan's zombie stays until init reaps it, which some containers never do)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_gone(processes: Sequence[psutil.Process], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(_alive(p) for p in processes) and time.monotonic() < deadline:
        time.sleep(0.05)


def stop_shards(processes: Sequence[subprocess.Popen], grace: float = SHARD_STOP_GRACE_S) -> None:
    """Stop the shards still running, with everything they started.

    Each gets SIGINT at once: it stops its asv's process group (as `run_process_group` does) and
    asv's result guard mends the clone's results. Whatever is left after `grace`, or at once on a
    second interrupt, is killed. The processes are listed before the signal, because a shard's asv
    runs in a session of its own and would outlive a SIGKILL of the shard's group.
    """
    live = [p for p in processes if p.poll() is None]
    tree = _descendants(live)
    try:
        for process in live:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
        deadline = time.monotonic() + grace
        for process in live:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
    finally:
        with signals_deferred():
            tree += _descendants(p for p in live if p.poll() is None)
            for process in live:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
            for child in tree:
                with contextlib.suppress(psutil.Error):
                    child.kill()  # psutil checks it is still the same process first
            for process in live:
                process.wait()
            _wait_gone(tree, _REAP_S)


def run_local_shards(
    bundle: Path,
    requests: Sequence[ShardRequest],
    workroot: Path,
    staging: Path,
    fingerprint: Fingerprint,
    extra_env: Mapping[str, str] | None = None,
) -> list[Path]:
    """Start every shard at once, wait for all, and return their output folders (for the merge).

    `workroot/shard-N` keeps each shard's clone, and so its asv environments, between runs, and
    the log of its last run. On an interrupt every shard is stopped before the interrupt goes on.
    """
    started = time.monotonic()
    running: list[tuple[ShardRequest, subprocess.Popen, Path]] = []
    scratch = Path(tempfile.mkdtemp(prefix="vcs-"))
    try:
        for request in requests:
            workdir = workroot / f"shard-{request.index}"
            log = workdir / LOG_NAME
            workdir.mkdir(parents=True, exist_ok=True)
            argv = [sys.executable, "-m", "veracity.cloud.shard", "--bundle", str(bundle), "--workdir", str(workdir)]
            argv += ["--out", str(staging / f"shard-{request.index}"), "--request", json.dumps(request.to_json())]
            env = shard_environment(workdir, fingerprint, extra_env or {}, scratch)
            # Held back between the start and the bookkeeping: an interrupt there would orphan the shard.
            with signals_deferred(), log.open("w", encoding="utf-8") as handle:
                process = subprocess.Popen(
                    argv, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
                )
                running.append((request, process, log))
        for request, process, log in running:
            code = process.wait()
            state = "done" if code == 0 else f"failed (exit {code}): {_tail(log)} (whole log: {log})"
            print(
                f"veracity: shard {request.index} ({len(request.commits)} commit(s)) {state} "
                f"after {time.monotonic() - started:.0f} s",
                flush=True,
            )
    except BaseException:
        stop_shards([process for _, process, _ in running])
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [staging / f"shard-{request.index}" for request in requests]
