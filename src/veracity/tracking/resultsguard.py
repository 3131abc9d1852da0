"""Keep asv's result files whole when an `asv run` is interrupted or its disk fills.

asv writes result files and benchmarks.json in place (open, truncate, write), so a run stopped
at the wrong moment leaves a truncated file: a new commit's results half written, or worse the
previous results of a commit that was being appended to. `guard_results` copies the JSON files
of the results folder before asv starts and, however asv ends, puts back the previous version of
every file that no longer parses (or removes it when it is new), so a re-run starts from whole
files and measures again only what was lost with the interruption.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from veracity.fsutil import signals_deferred


@dataclass
class Repairs:
    """What `guard_results` did after asv ended: files put back, and partial new files removed."""

    restored: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        if self.restored:
            parts.append(f"restored {len(self.restored)} result file(s) asv left half written")
        if self.removed:
            parts.append(f"removed {len(self.removed)} partial new result file(s), to be measured again")
        return "; ".join(parts)


def _is_whole(path: Path) -> bool:
    """Whether `path` holds a complete JSON object: what an interrupted write never leaves.

    Only completeness is checked: a file asv wrote whole but that the tracker finds odd in
    content is reported by the tracker, never removed here.
    """
    try:
        return isinstance(json.loads(path.read_bytes()), dict)
    except (OSError, ValueError):
        return False


def _json_files(results_dir: Path) -> list[Path]:
    if not results_dir.is_dir():
        return []
    return [p for p in results_dir.rglob("*.json") if not any(part.startswith(".") for part in p.parts[-2:])]


def repair(results_dir: Path, backup: Path) -> Repairs:
    """Put back from `backup` each file of `results_dir` that asv left unreadable; drop unreadable new ones."""
    repairs = Repairs()
    for path in _json_files(results_dir):
        if _is_whole(path):
            continue
        saved = backup / path.relative_to(results_dir)
        with signals_deferred():
            if saved.is_file():
                tmp = path.with_name(f".{path.name}.restore")
                shutil.copy2(saved, tmp)
                tmp.replace(path)
                repairs.restored.append(path)
            else:
                path.unlink(missing_ok=True)
                repairs.removed.append(path)
    return repairs


@contextlib.contextmanager
def guard_results(results_dir: Path) -> Iterator[Repairs]:
    """Around an asv command that writes results: afterwards no result file is left half written.

    The yielded Repairs is filled in when the block ends, whether asv finished, failed or the
    block was interrupted (the interruption still propagates).
    """
    results_dir = Path(results_dir)
    backup = Path(tempfile.mkdtemp(prefix="veracity-results-backup-"))
    repairs = Repairs()
    try:
        for path in _json_files(results_dir):
            saved = backup / path.relative_to(results_dir)
            saved.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, saved)
        yield repairs
    finally:
        done = repair(results_dir, backup)
        repairs.restored += done.restored
        repairs.removed += done.removed
        shutil.rmtree(backup, ignore_errors=True)
