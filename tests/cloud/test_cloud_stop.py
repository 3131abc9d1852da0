"""Stopping local shards: everything they started goes, even a process in a session of its own that ignores SIGINT."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil

from veracity.cloud.local_shards import stop_shards

# A "shard" that ignores SIGINT and starts, in a session of its own (as run_process_group starts
# asv), a child that ignores it too; it writes the child's pid, then waits.
_STUBBORN_SHARD = """
import signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
child = subprocess.Popen(
    [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)"],
    start_new_session=True,
)
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(60)
"""


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_stubborn_shard_and_its_own_session_child_are_killed_after_the_grace(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    shard = subprocess.Popen([sys.executable, "-c", _STUBBORN_SHARD, str(pid_file)], start_new_session=True)
    deadline = time.monotonic() + 30
    while not (pid_file.is_file() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    child = int(pid_file.read_text())

    started = time.monotonic()
    stop_shards([shard], grace=1)
    assert time.monotonic() - started < 10
    assert shard.returncode is not None and shard.returncode < 0
    assert _gone(child)


def test_shards_that_already_ended_are_left_alone(tmp_path: Path) -> None:
    done = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    done.wait()
    stop_shards([done], grace=1)
    assert done.returncode == 0
