"""Which commits a cloud run measures and how they are split into shards."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from veracity.errors import InputError
from veracity.tracking.gitrepo import first_parent_history, rev_parse
from veracity.tracking.machine import gpu_matches

_SKIP_FILES = {"machine.json", "benchmarks.json"}


@dataclass(frozen=True)
class Shard:
    """The commits one container (or local process) measures, oldest first."""

    index: int
    commits: tuple[str, ...]


def resolve_range(repo: Path, spec: str) -> list[str]:
    """Full hashes of a commit range, oldest first: `A..B` (first-parent, as asv reads it) or one commit."""
    spec = spec.strip()
    if not spec:
        raise InputError("give a commit range such as HEAD~3..HEAD, or one commit")
    if ".." in spec:
        commits = first_parent_history(repo, spec)
        if commits is None:
            raise InputError(f"git does not know the range {spec!r} in {repo}; check both ends exist")
        if not commits:
            raise InputError(f"the range {spec!r} holds no commits; the left end is excluded, as in git")
        return commits
    commit = rev_parse(repo, spec)
    if commit is None:
        raise InputError(f"git does not know the commit {spec!r} in {repo}")
    return [commit]


def split(commits: Sequence[str], shards: int) -> list[Shard]:
    """Deal `commits` round-robin into at most `shards` non-empty shards, each oldest first.

    Round-robin rather than contiguous blocks: if two containers' hardware differs slightly, the
    difference shows up as alternating noise along the history, never as one step at a block edge
    that step detection would report as a regression.
    """
    if shards < 1:
        raise InputError("--shards must be at least 1")
    count = min(shards, len(commits))
    return [Shard(i, tuple(commits[i::count])) for i in range(count)]


def measured_commits(results_dir: Path, machines: Iterable[str]) -> set[str]:
    """Full hashes with at least one result file for any of `machines` (unreadable files do not count).

    The same rule as `asv run --skip-existing-commits`; a truncated file is measured again.
    """
    found: set[str] = set()
    for machine in machines:
        folder = results_dir / machine
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            if path.name in _SKIP_FILES or path.name.startswith("."):
                continue
            try:
                commit = json.loads(path.read_text(encoding="utf-8")).get("commit_hash")
            except (OSError, ValueError, AttributeError):
                continue
            if isinstance(commit, str) and commit:
                found.add(commit)
    return found


def machines_with_gpu(results_dir: Path, gpu: str) -> list[str]:
    """Machines whose record (machine.json) names a GPU of type `gpu`: where Modal runs of that type landed."""
    out = []
    for path in sorted(results_dir.glob("*/machine.json")) if results_dir.is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(record, dict):
            continue
        count, _, model = str(record.get("gpu", "")).partition("x ")
        if model and count.isdigit() and gpu_matches(gpu, model, int(count)):
            out.append(path.parent.name)
    return out


def pending(commits: Sequence[str], measured: set[str]) -> list[str]:
    """The commits not measured yet, in their order."""
    return [c for c in commits if c not in measured]
