"""Stopping local shards: everything they started goes, even a process in a session of its own that ignores SIGINT."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

from veracity.cloud.local_runner import SHARD_STOP_GRACE_S, stop_shards

# A "shard" that ignores SIGINT and starts, in a session of its own (as run_process_group starts
# asv), a child that ignores it too; it writes the child's pid, then waits. Neither ends on its own
# within any test's time: when they are gone, they were killed.
_STUBBORN_SHARD = """
import signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
child = subprocess.Popen(
    [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(3600)"],
    start_new_session=True,
)
open(sys.argv[1], "w").write(str(child.pid))
time.sleep(3600)
"""
GRACE_S = 1.0
# Only a stop that waits for the stubborn processes to end by themselves takes this long; on a
# loaded machine a stop that kills them can take a while, so the bound is generous, not a timing.
HUNG_S = GRACE_S + 4 * SHARD_STOP_GRACE_S


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_stubborn_shard_and_its_own_session_child_are_killed_after_the_grace(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    shard = subprocess.Popen([sys.executable, "-c", _STUBBORN_SHARD, str(pid_file)], start_new_session=True)
    child = None
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.is_file() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        child = psutil.Process(int(pid_file.read_text()))

        stopping = threading.Thread(target=stop_shards, args=([shard],), kwargs={"grace": GRACE_S}, daemon=True)
        started = time.monotonic()
        stopping.start()
        stopping.join(HUNG_S)
        stopped_after = time.monotonic() - started

        assert not stopping.is_alive(), "stop_shards is waiting for processes that ignore SIGINT to end by themselves"
        assert stopped_after >= GRACE_S  # SIGINT first, and the grace to act on it, before any kill
        assert shard.returncode == -signal.SIGKILL
        assert _gone(child.pid)
    finally:  # whatever the outcome, nothing of the test outlives it
        if shard.poll() is None:
            os.killpg(shard.pid, signal.SIGKILL)
            shard.wait()
        if child is not None:
            with contextlib.suppress(psutil.Error):
                child.kill()  # psutil checks it is still the same process first


def test_shards_that_already_ended_are_left_alone(tmp_path: Path) -> None:
    done = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    done.wait()
    stop_shards([done], grace=1)
    assert done.returncode == 0
