"""Atomic writes keep the old file on failure; unwritable directories are reported, not crashed on."""

from __future__ import annotations

import os
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


def test_read_only_directory_is_a_data_dir_error(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores permission bits; the file-as-parent case covers this path")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(DataDirError):
        ensure_writable_dir(locked / "cache", "cache")
