"""Resumable JSON-lines output: rows go to `<output>.partial` as they come, `<output>` is written whole at the end.

A run that stops half way (database lost, disk full, Ctrl-C, SIGTERM, even SIGKILL) keeps every
row it finished in the partial file; the same command run again checks that the partial file is
for the same input and settings, skips the rows it holds, and writes the complete output in one
atomic step. `<output>` itself is never half written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO

from veracity.errors import DataDirError
from veracity.fsutil import atomic_writer, describe_write_error, is_storage_error

PARTIAL_SUFFIX = ".partial"
_HEADER_KEY = "veracity_partial"


def run_key(*parts: Iterable[str] | str) -> str:
    """A digest naming one run's input and settings; a partial file of another run is never resumed."""
    digest = hashlib.sha256()
    for part in parts:
        for item in [part] if isinstance(part, str) else part:
            digest.update(item.encode("utf-8") + b"\0")
        digest.update(b"\1")
    return digest.hexdigest()[:32]


def _whole_rows(path: Path, key: str) -> list[str]:
    """The complete rows of a partial file written under `key`; [] for a missing, foreign or damaged one."""
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError:
        return []
    try:
        header = json.loads(lines[0])
    except ValueError:
        return []
    if not isinstance(header, dict) or header.get(_HEADER_KEY) != key:
        return []
    rows = []
    # The last element is whatever followed the last newline: empty, or a row cut off mid-write.
    for line in lines[1:-1]:
        try:
            text = line.decode("utf-8")
            json.loads(text)
        except ValueError:
            break
        rows.append(text)
    return rows


class Journal:
    """The rows finished so far for `output`, kept on disk as they are added."""

    def __init__(self, output: Path, key: str) -> None:
        self.output = output
        self.key = key
        self.path = output.with_name(output.name + PARTIAL_SUFFIX)
        self.rows = _whole_rows(self.path, key)
        self._handle: IO[str] | None = None

    @property
    def count(self) -> int:
        return len(self.rows)

    def _open(self) -> IO[str]:
        if self._handle is None:
            # Rewrite the file first: it may hold a foreign header or a row cut off by a crash.
            with atomic_writer(self.path) as handle:
                handle.write(json.dumps({_HEADER_KEY: self.key}) + "\n")
                handle.writelines(row + "\n" for row in self.rows)
            self._handle = self.path.open("a", encoding="utf-8")
        return self._handle

    def append(self, row: str) -> None:
        """Keep one finished row (a JSON document on one line)."""
        try:
            handle = self._open()
            handle.write(row + "\n")
            handle.flush()
        except OSError as exc:
            if is_storage_error(exc):
                raise DataDirError(describe_write_error(self.path, exc)) from None
            raise
        self.rows.append(row)

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def commit(self) -> None:
        """Write `output` whole from the rows, then drop the partial file."""
        self.close()
        with atomic_writer(self.output) as handle:
            handle.writelines(row + "\n" for row in self.rows)
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
