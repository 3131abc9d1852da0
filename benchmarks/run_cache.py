"""Values measured once per asv run (or per `asv run` invocation), shared by its benchmark processes.

Each value is a JSON memo file under `<cache>/bench-runs/<token>/`, written atomically under a lock
per name: the first benchmark process that asks computes it, the others read it.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from benchmarks.common import settings

RUN_MEMO_STALE_S = 6 * 3600


@functools.cache
def run_token() -> str:
    """Names one `asv run` of one commit in one environment, as seen from a benchmark process.

    asv forks every benchmark process from one forkserver per commit and environment, so the
    parent's pid and start time identify the run; the install time of the `veracity` package
    separates commits where asv's spawn launch method makes the parent asv itself. This replaces
    `setup_cache`, which asv runs in a fresh interpreter (imports and model loads, ~5-10 s each)
    and runs whether or not `--bench` selected any of its class's parameter sets.
    """
    import veracity

    parent = psutil.Process(os.getppid())
    installed = Path(veracity.__file__).stat().st_mtime_ns
    raw = f"{parent.pid}:{parent.create_time()}:{installed}:{sys.prefix}"
    return hashlib.sha256(raw.encode()).hexdigest()[:12]


def _memo_dir(token: str) -> Path:
    root = settings().cache_dir / "bench-runs"
    path = root / token
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        for old in root.iterdir():  # runs that ended hours ago: their processes are gone
            if old != path and time.time() - old.stat().st_mtime > RUN_MEMO_STALE_S:
                shutil.rmtree(old, ignore_errors=True)
    return path


def _memo(
    directory: Path,
    name: str,
    compute: Callable[[], dict[str, Any]],
    valid: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    key = hashlib.sha256(name.encode()).hexdigest()[:16]
    target = directory / f"{key}.json"
    with open(directory / f"{key}.lock", "a") as lock:  # one lock per name: computes may nest
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if target.is_file():
                value = json.loads(target.read_text())["value"]
                if valid is None or valid(value):
                    return value
            value = compute()
            partial = target.with_suffix(".partial")
            partial.write_text(json.dumps({"name": name, "value": value}))
            os.replace(partial, target)
            return value
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def once_per_run(name: str, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`compute()` the first time any benchmark process of this run asks for `name`; its JSON after.

    For measurements that are expensive and feed several cheap `track_*` values (a latency
    distribution, a grid row, a pass over the claim set): the first benchmark that needs one pays
    for it inside its own forked process, which already holds the models. A lock file per name
    serialises concurrent askers; the value is written atomically, so an interrupted run leaves no half entry.
    """
    return _memo(_memo_dir(run_token()), name, compute)


@functools.cache
def invocation_owner() -> psutil.Process:
    """The `asv run` process behind this benchmark process: it lives through every round and commit.

    A benchmark process is forked from a forkserver (`benchmark.py run_server`), whose parent is
    asv; under asv's spawn launch method the parent is asv itself.
    """
    parent = psutil.Process(os.getppid())
    try:
        is_forkserver = "run_server" in parent.cmdline()
    except psutil.Error:
        is_forkserver = False
    return (parent.parent() or parent) if is_forkserver else parent


@functools.cache
def code_identity() -> str:
    """A hash of the installed `veracity` package's source: commits with byte-identical code share it."""
    import veracity

    root = Path(veracity.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def once_per_invocation(
    name: str, compute: Callable[[], dict[str, Any]], valid: Callable[[dict[str, Any]], bool] | None = None
) -> dict[str, Any]:
    """As `once_per_run`, but shared by every round and commit of one `asv run` invocation.

    For artefacts that only the code builds, such as a loaded and indexed table: put
    `code_identity()` in `name`, so commits with identical code (an A/A twin, a later round of the
    same commit) reuse it and any change builds its own. `valid` re-checks a remembered value
    (the table may have been dropped since); a value that fails it is computed again.
    """
    owner = invocation_owner()
    raw = f"invocation:{owner.pid}:{owner.create_time()}:{sys.prefix}"
    return _memo(_memo_dir(hashlib.sha256(raw.encode()).hexdigest()[:12]), name, compute, valid)
