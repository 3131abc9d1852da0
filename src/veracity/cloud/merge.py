"""Merge shards' result folders into the local asv results, so `asv publish` shows one history.

Nothing a shard sends can spoil results already here: each file is checked on its own (a truncated
or foreign one is reported and left out, the rest go in), two copies of one commit are settled by
completeness and then recency, and every write is atomic.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from veracity.cloud.shard import MANIFEST, asv_version
from veracity.errors import ResultsError
from veracity.fsutil import atomic_write_text
from veracity.tracking.results import (
    BENCHMARKS_API_VERSION,
    MACHINE_API_VERSION,
    RESULTS_API_VERSION,
    parse_result_file,
)

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")
_LOCAL = "here"


@dataclass(frozen=True)
class MergeReport:
    """What the merge did: files written, duplicates settled (notes) and shard files left out (problems)."""

    written: tuple[str, ...]
    notes: tuple[str, ...]
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when no shard result was lost."""
        return not self.problems


@dataclass(frozen=True)
class _Candidate:
    """One result file for (machine, commit, environment), from a shard or already here."""

    source: str
    text: str
    machine: str
    commit: str
    env_name: str
    complete: int
    total: int
    finished: float

    def rank(self) -> tuple[int, int, float]:
        return (self.complete, self.total, self.finished)

    def describe(self) -> str:
        owner = "the copy already here" if self.source == _LOCAL else f"{self.source}'s copy"
        return f"{owner} ({self.complete} of {self.total} results)"


def result_filename(machine: str, commit: str, env_name: str) -> str:
    """asv's own name for a result file (asv.results.get_filename): a long env name becomes its md5."""
    if env_name and len(env_name) >= 128:
        env_name = "env-" + hashlib.md5(env_name.encode("utf-8")).hexdigest()
    return f"{machine}/{commit[:8]}-{env_name}.json"


def _load_versioned(path: Path, version: int, what: str) -> tuple[dict | None, str, str | None]:
    """(data, text, problem): a JSON object of the expected format version, or why not."""
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, "", f"{path}: {what} is truncated or not JSON ({exc}); left out"
    if not isinstance(data, dict):
        return None, text, f"{path}: {what} does not hold a JSON object; left out"
    if data.get("version") != version:
        return (
            None,
            text,
            (
                f"{path}: {what} has format version {data.get('version')!r} but this asv ({asv_version()}) "
                f"writes version {version}; refused (re-run that shard with the pinned asv)"
            ),
        )
    return data, text, None


def _finished_at(data: dict) -> float:
    """When the last benchmark of a result file ended (s since the epoch): asv 0.6 keeps each row's
    `started_at` (ms) and `duration` (s) as columns."""
    columns = data.get("result_columns") or []
    latest = 0.0
    for row in (data.get("results") or {}).values():
        cells = dict(zip(columns, row, strict=False)) if isinstance(row, list) else {}
        started, duration = cells.get("started_at"), cells.get("duration")
        if isinstance(started, int | float) and not isinstance(started, bool):
            latest = max(latest, started / 1000 + (duration if isinstance(duration, int | float) else 0.0))
    return latest


def _candidate(path: Path, source: str, machine: str) -> tuple[_Candidate | None, str | None]:
    data, text, problem = _load_versioned(path, RESULTS_API_VERSION, "result file")
    if data is None:
        return None, problem
    try:
        parsed = parse_result_file(path, machine)
    except ResultsError as exc:
        return None, f"{path}: not a valid asv result file, left out ({exc})"
    finished = _finished_at(data)
    return (
        _Candidate(
            source=source,
            text=text,
            machine=machine,
            commit=parsed.commit,
            env_name=parsed.env_name,
            complete=sum(1 for r in parsed.results if r.value is not None and not math.isnan(r.value)),
            total=len(parsed.results),
            finished=float(finished),
        ),
        None,
    )


class _Merger:
    def __init__(self, results_dir: Path) -> None:
        self.results_dir = results_dir
        self.candidates: dict[tuple[str, str, str], list[_Candidate]] = {}
        self.machines: dict[str, str] = {}
        self.benchmarks: dict[str, object] = {}
        self.benchmarks_changed = False
        self.notes: list[str] = []
        self.problems: list[str] = []
        self.written: list[str] = []

    def shard(self, folder: Path, label: str) -> None:
        manifest = self._manifest(folder, label)
        if manifest is None:
            return
        for error in manifest.get("errors") or []:
            self.problems.append(f"{label}: {error}")
        self._benchmarks(folder / "benchmarks.json", label)
        for machine_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            if not _SAFE_NAME.match(machine_dir.name):
                self.problems.append(f"{label}: machine folder {machine_dir.name!r} has an unsafe name; left out")
                continue
            self._machine(machine_dir, label)

    def _manifest(self, folder: Path, label: str) -> dict | None:
        path = folder / MANIFEST
        if not path.is_file():
            self.problems.append(f"{label}: no {MANIFEST}, so it did not finish; its files are checked one by one")
            return {}
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self.problems.append(f"{label}: {MANIFEST} is unreadable ({exc}); its files are checked one by one")
            return {}
        mine = asv_version()
        theirs = manifest.get("asv_version") if isinstance(manifest, dict) else None
        if theirs and mine and theirs != mine:
            self.problems.append(
                f"{label} ran asv {theirs} but this checkout has asv {mine}; all its results are refused "
                "(timings of different asv versions are not comparable); pin asv in the image and re-run"
            )
            return None
        return manifest if isinstance(manifest, dict) else {}

    def _benchmarks(self, path: Path, label: str) -> None:
        if not path.is_file():
            return
        data, _, problem = _load_versioned(path, BENCHMARKS_API_VERSION, f"{label} benchmarks.json")
        if data is None:
            self.problems.append(problem or f"{path}: unreadable")
            return
        self.benchmarks.update({k: v for k, v in data.items() if k != "version"})
        self.benchmarks_changed = True

    def _machine(self, folder: Path, label: str) -> None:
        record = folder / "machine.json"
        if record.is_file():
            data, text, problem = _load_versioned(record, MACHINE_API_VERSION, f"{label} machine.json")
            if data is None:
                self.problems.append(problem or f"{record}: unreadable")
            elif data.get("machine") != folder.name:
                self.problems.append(f"{record}: names machine {data.get('machine')!r}, not {folder.name!r}; left out")
            else:
                self.machines[folder.name] = text
        for path in sorted(folder.glob("*.json")):
            if path.name == "machine.json" or path.name.startswith("."):
                continue
            found, problem = _candidate(path, label, folder.name)
            if found is None:
                self.problems.append(f"{label}: {problem}")
            else:
                self.candidates.setdefault((found.machine, found.commit, found.env_name), []).append(found)

    def load_local_benchmarks(self) -> None:
        """Benchmarks declared here stay; the shards' declarations are laid over them."""
        path = self.results_dir / "benchmarks.json"
        if path.is_file():
            data, _, _ = _load_versioned(path, BENCHMARKS_API_VERSION, "benchmarks.json")
            self.benchmarks = {k: v for k, v in (data or {}).items() if k != "version"}

    def load_local_results(self) -> None:
        """A commit already measured here competes with the shards' copies of it."""
        for machine, commit, env_name in list(self.candidates):
            local = self.results_dir / result_filename(machine, commit, env_name)
            if local.is_file():
                found, _ = _candidate(local, _LOCAL, machine)
                if found is not None:
                    self.candidates[(machine, commit, env_name)].insert(0, found)

    def write(self) -> None:
        """Write what was chosen, each file atomically: machine records and benchmarks.json before the
        result files that need them, so a merge stopped part-way leaves whole files that fit together."""
        chosen: list[tuple[Path, _Candidate]] = []
        for (machine, commit, env_name), copies in sorted(self.candidates.items()):
            best = max(copies, key=_Candidate.rank)  # the first of equals: existing results win ties
            if len(copies) > 1:
                others = [c for c in copies if c is not best]
                if best.complete > max(c.complete for c in others):
                    why = "it has more results"
                elif best.source == _LOCAL:
                    why = "the copy already here is as complete"
                else:
                    why = "it is as complete and finished last"
                self.notes.append(
                    f"commit {commit[:8]} ({env_name}) on {machine} came {len(copies)} times; kept "
                    f"{best.describe()} because {why}; dropped {', '.join(c.describe() for c in others)}"
                )
            if best.source == _LOCAL:
                continue
            if machine not in self.machines and not (self.results_dir / machine / "machine.json").is_file():
                self.problems.append(f"commit {commit[:8]} on {machine}: no machine.json came with it; left out")
                continue
            chosen.append((self.results_dir / result_filename(machine, commit, env_name), best))
        for machine, text in sorted(self.machines.items()):
            atomic_write_text(self.results_dir / machine / "machine.json", text)
        if self.benchmarks_changed:
            data = {**self.benchmarks, "version": BENCHMARKS_API_VERSION}
            atomic_write_text(self.results_dir / "benchmarks.json", json.dumps(data, indent=4, sort_keys=True) + "\n")
        for path, best in chosen:
            atomic_write_text(path, best.text)
            self.written.append(f"{best.machine}/{best.commit}")


def merge_shards(shard_dirs: Sequence[Path], results_dir: Path) -> MergeReport:
    """Merge every shard folder (as ShardOutput.write lays it out, named for its shard) into `results_dir`."""
    merger = _Merger(results_dir)
    merger.load_local_benchmarks()
    for folder in shard_dirs:
        if not folder.is_dir():
            merger.problems.append(f"{folder.name}: sent nothing back ({folder} is missing)")
            continue
        merger.shard(folder, folder.name)
    merger.load_local_results()
    merger.write()
    return MergeReport(tuple(merger.written), tuple(merger.notes), tuple(merger.problems))
