"""The local backend: shards as parallel processes on this machine, each with its own clone and HOME.

Each process runs the same shard body as a Modal container (`python -m veracity.cloud.shard`).
Each gets its own HOME because `asv run` rewrites ~/.asv-machine.json non-atomically when it
starts, and two shards starting together could read each other's half-written file; the caches
and pip configuration are pinned to the user's real ones so nothing is downloaded or built twice.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from veracity.cloud.shard import ShardRequest
from veracity.config import default_cache_dir
from veracity.fingerprint import Fingerprint, record_machine
from veracity.tracking.asvrun import stop_process_group

LOG_TAIL_LINES = 8


def shard_environment(workdir: Path, fingerprint: Fingerprint, extra: Mapping[str, str]) -> dict[str, str]:
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


def run_local_shards(
    bundle: Path,
    requests: Sequence[ShardRequest],
    workroot: Path,
    staging: Path,
    fingerprint: Fingerprint,
    extra_env: Mapping[str, str] | None = None,
) -> list[Path]:
    """Start every shard at once, wait for all, and return their output folders (for the merge).

    `workroot/shard-N` keeps each shard's clone, and so its asv environments, between runs.
    """
    started = time.monotonic()
    running: list[tuple[ShardRequest, subprocess.Popen, Path]] = []
    try:
        for request in requests:
            workdir = workroot / f"shard-{request.index}"
            log = staging / f"shard-{request.index}.log"
            argv = [sys.executable, "-m", "veracity.cloud.shard", "--bundle", str(bundle), "--workdir", str(workdir)]
            argv += ["--out", str(staging / f"shard-{request.index}"), "--request", json.dumps(request.to_json())]
            with log.open("w", encoding="utf-8") as handle:
                process = subprocess.Popen(
                    argv,
                    env=shard_environment(workdir, fingerprint, extra_env or {}),
                    stdout=handle,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            running.append((request, process, log))
        for request, process, log in running:
            code = process.wait()
            state = "done" if code == 0 else f"failed (exit {code}): {_tail(log)}"
            print(
                f"veracity: shard {request.index} ({len(request.commits)} commit(s)) {state} "
                f"after {time.monotonic() - started:.0f} s",
                flush=True,
            )
    except BaseException:
        for _, process, _ in running:
            if process.poll() is None:
                stop_process_group(process)
        raise
    return [staging / f"shard-{request.index}" for request in requests]
