"""Atomic writes and writable-directory checks, so an interrupted run never leaves half a file."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from veracity.errors import DataDirError

# Errors of the place being written to (full disk, quota, read-only or failing device), not of the data.
_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO})
_DENIED_ERRNOS = frozenset({errno.EACCES, errno.EPERM})


def describe_write_error(path: Path, exc: OSError) -> str:
    """One line saying why `path` could not be written and what to do about it."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        advice = "free some space (or raise the quota) and re-run; the previous file, if any, is unchanged"
    elif exc.errno in _DENIED_ERRNOS or exc.errno == errno.EROFS:
        advice = "fix the folder's permissions or choose a writable place"
    else:
        advice = "check the disk and re-run; the previous file, if any, is unchanged"
    return f"cannot write {path} ({reason}); {advice}"


def is_storage_error(exc: BaseException) -> bool:
    """True for an OSError that says the storage refused a write (full, read-only, denied, failing)."""
    return isinstance(exc, OSError) and exc.errno in _STORAGE_ERRNOS | _DENIED_ERRNOS


def ensure_writable_dir(path: Path, purpose: str) -> Path:
    """Create `path` if needed and prove it is writable, or raise DataDirError saying so."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        elsewhere = "set VERACITY_CACHE_DIR to a writable folder" if "cache" in purpose else "choose a writable folder"
        raise DataDirError(
            f"{purpose} directory {path} is not writable ({exc.strerror or exc}); fix its permissions or {elsewhere}"
        ) from None
    return path


def _mode_for(target: Path) -> int:
    """The permission bits a replacement of `target` gets: its own, else the default for a new file."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_writer(target: Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Write to a temporary file beside `target` and rename it over `target` only on success.

    A full disk, a read-only folder or a denied write becomes a DataDirError naming `target`;
    `target` keeps its previous content in every failure, and no temporary file is left behind.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise DataDirError(describe_write_error(target, exc)) from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, mode, encoding=encoding if "b" not in mode else None) as handle:
            # mkstemp makes the file private (0600); the result should be readable as any other file is.
            os.fchmod(handle.fileno(), _mode_for(target))
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if is_storage_error(exc):
            raise DataDirError(describe_write_error(target, exc)) from None
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(target: Path, text: str) -> None:
    """Replace `target` with `text` in one step."""
    with atomic_writer(target) as handle:
        handle.write(text)


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while a short step that must not be cut in two runs.

    They are delivered (and raise as usual) when the block ends. Only the main thread can do
    this; elsewhere the block runs unshielded.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
