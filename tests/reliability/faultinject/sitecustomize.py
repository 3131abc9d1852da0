"""Fault injection for the reliability tests: Python imports this at start-up when its folder is on PYTHONPATH.

It acts only when VERACITY_FAULT is set, on files opened for writing with the built-in `open`
(as asv writes its result files, benchmarks.json and the site) whose absolute path matches the
fnmatch pattern in VERACITY_FAULT_PATHS:

- `enospc`: the first write goes through, the next raises OSError(ENOSPC), as a disk that fills
  up mid-file does (simulated: no real disk is filled);
- `pause`: the first write goes through and is flushed, so the file on disk is truncated, then the
  file VERACITY_FAULT_MARKER is created and the write waits, for a test to send a signal right then.
"""

from __future__ import annotations

import builtins
import errno
import fnmatch
import os
import time

_KIND = os.environ.get("VERACITY_FAULT")
_PATTERN = os.environ.get("VERACITY_FAULT_PATHS", "")
_MARKER = os.environ.get("VERACITY_FAULT_MARKER")
_PAUSE_S = 120


class _FaultyFile:
    def __init__(self, handle, path: str) -> None:
        self._handle = handle
        self._path = path
        self._writes = 0

    def write(self, data):
        self._writes += 1
        if self._writes == 1:
            written = self._handle.write(data)
            if _KIND == "pause":
                self._handle.flush()
                if _MARKER:
                    with _real_open(_MARKER, "w") as marker:
                        marker.write(self._path)
                time.sleep(_PAUSE_S)
            return written
        if _KIND == "enospc":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), self._path)
        return self._handle.write(data)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __iter__(self):
        return iter(self._handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._handle.__exit__(*exc)


_real_open = builtins.open


def _open(file, mode="r", *args, **kwargs):
    handle = _real_open(file, mode, *args, **kwargs)
    if any(c in mode for c in "wax+") and isinstance(file, str | os.PathLike):
        path = os.path.abspath(os.fspath(file))
        if fnmatch.fnmatch(path, _PATTERN):
            return _FaultyFile(handle, path)
    return handle


if _KIND in ("enospc", "pause") and _PATTERN:
    builtins.open = _open
