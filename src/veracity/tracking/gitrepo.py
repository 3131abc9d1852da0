"""The few git questions the tracker asks: resolve a name, and list a branch's commits in order."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _git(repo: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def rev_parse(repo: Path, name: str) -> str | None:
    """The full hash of `name` (a branch, tag, HEAD~1 or hash prefix), or None when git does not know it."""
    out = _git(repo, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}")
    return out.strip() if out else None


def first_parent_history(repo: Path, ref: str) -> list[str] | None:
    """Commits reachable from `ref` along first parents, oldest first; None when git cannot answer."""
    out = _git(repo, "rev-list", "--first-parent", "--reverse", ref)
    return out.split() if out is not None else None


def commit_subject(repo: Path, commit: str) -> str:
    out = _git(repo, "log", "-1", "--format=%s", commit)
    return out.strip() if out else ""
