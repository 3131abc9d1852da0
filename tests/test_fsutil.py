"""Atomic writes keep the old file on failure; unwritable directories are reported, not crashed on."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from veracity.errors import DataDirError
from veracity.fsutil import atomic_write_text, atomic_writer, ensure_writable_dir


def test_atomic_write_replaces_content(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    atomic_write_text(target, "old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"


def test_failed_write_keeps_previous_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "results.json"
    atomic_write_text(target, "precious")
    with pytest.raises(RuntimeError), atomic_writer(target) as handle:
        handle.write("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_directory_under_a_file_is_a_data_dir_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(DataDirError, match="not writable"):
        ensure_writable_dir(blocker / "cache", "cache")


# Run as a user whom permission bits bind: the folder it may write is the control, the read-only
# folder beside it the case. Exit 0 with DataDirError's message on stdout when the case is refused.
_READ_ONLY_CASE = """
import os, sys
from pathlib import Path
from veracity.errors import DataDirError
from veracity.fsutil import ensure_writable_dir
if os.geteuid() == 0:
    sys.exit("running as root: permission bits would not apply")
root = Path(sys.argv[1])
ensure_writable_dir(root / "open" / "cache", "cache")
locked = root / "locked"
locked.mkdir(mode=0o500)
try:
    ensure_writable_dir(locked / "cache", "cache")
except DataDirError as exc:
    print(exc)
else:
    sys.exit(f"{locked} is read-only, yet ensure_writable_dir accepted it")
"""


@pytest.fixture
def unprivileged(tmp_path: Path) -> Iterator[tuple[list[str], Path]]:
    """How to run a command as a user whom permission bits bind, and a folder that user owns.

    Root ignores permission bits (and CI runs as root), so there the case runs as `nobody`.
    """
    if os.geteuid() != 0:
        yield [], tmp_path
        return
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        nobody = None
    uid, gid = (nobody.pw_uid, nobody.pw_gid) if nobody else (65534, 65534)
    if shutil.which("setpriv"):
        prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    elif shutil.which("runuser") and nobody:
        prefix = ["runuser", "-u", "nobody", "--"]
    else:
        pytest.skip("running as root without setpriv (or runuser and a user nobody): cannot drop privileges")
    # pytest's own temporary folders are root's alone; this one is in the system's, owned by that user.
    workspace = Path(tempfile.mkdtemp(prefix="veracity-fsutil-"))
    try:
        os.chown(workspace, uid, gid)
        yield prefix, workspace
    finally:
        shutil.rmtree(workspace)


def test_read_only_directory_is_a_data_dir_error(unprivileged: tuple[list[str], Path]) -> None:
    prefix, workspace = unprivileged
    done = subprocess.run(
        [*prefix, sys.executable, "-c", _READ_ONLY_CASE, str(workspace)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"cache directory {workspace / 'locked' / 'cache'} is not writable" in done.stdout
