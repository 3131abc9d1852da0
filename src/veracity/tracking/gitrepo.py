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


def commits_between(repo: Path, before: str, after: str) -> list[str]:
    """The commits after `before` up to and including `after`, oldest first (empty when git cannot tell)."""
    out = _git(repo, "rev-list", "--reverse", f"{before}..{after}")
    return out.split() if out else []


def first_parent_between(repo: Path, before: str, after: str) -> list[str]:
    """The first-parent commits after `before` up to and including `after`, oldest first, as
    `git bisect --first-parent` walks them (empty when git cannot tell)."""
    out = _git(repo, "rev-list", "--first-parent", "--reverse", f"{before}..{after}")
    return out.split() if out else []


def is_ancestor(repo: Path, ancestor: str, commit: str) -> bool:
    """Whether `ancestor` is `commit` or one of its ancestors."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), "merge-base", "--is-ancestor", ancestor, commit],
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def commit_subject(repo: Path, commit: str) -> str:
    out = _git(repo, "log", "-1", "--format=%s", commit)
    return out.strip() if out else ""


def make_twin_commit(repo: Path, commit: str) -> str:
    """A commit with `commit`'s tree and `commit` as parent, that no branch points to: the same code.

    Calibration measures it beside `commit` in one asv run (asv checks out by hash, and the objects
    are in this repository). Author, committer and dates are fixed, so the twin of a commit is
    always the same object.
    """
    import os

    from veracity.errors import ResultsError

    identity = {
        "GIT_AUTHOR_NAME": "veracity calibrate",
        "GIT_AUTHOR_EMAIL": "calibrate@veracity.invalid",
        "GIT_COMMITTER_NAME": "veracity calibrate",
        "GIT_COMMITTER_EMAIL": "calibrate@veracity.invalid",
        "GIT_AUTHOR_DATE": "2000-01-01T00:00:00+00:00",
        "GIT_COMMITTER_DATE": "2000-01-01T00:00:00+00:00",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), "commit-tree", f"{commit}^{{tree}}", "-p", commit, "-m", f"twin of {commit}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env={**os.environ, **identity},
    )
    if done.returncode != 0:
        raise ResultsError(f"could not create a twin of {commit[:8]} for calibration: {done.stderr.strip()}")
    return done.stdout.strip()
