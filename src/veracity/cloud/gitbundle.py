"""Ship a repository's history to a shard as one git bundle, and check commits out of it there.

A container cannot reach the user's repository (it may be private and local), so the history
travels as a bundle: HEAD, every branch and every tag. Local shards use the same path, which is
what keeps the local backend an honest stand-in for the cloud one.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from veracity.errors import VeracityError

BUNDLE_REFS = ("HEAD", "--branches", "--tags")


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise VeracityError(f"git {args[0]} failed in {cwd} ({exc}); is git installed?") from None
    if done.returncode != 0:
        raise VeracityError(f"git {' '.join(args[:2])} failed in {cwd}: {done.stderr.strip() or done.returncode}")
    return done.stdout


def create_bundle(repo: Path, target: Path) -> Path:
    """Write a bundle of HEAD, the branches and the tags of `repo` to `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _git(repo, "bundle", "create", "--quiet", str(target), *BUNDLE_REFS)
    return target


def checkout(bundle: Path, clone: Path, commit: str) -> Path:
    """Bring `clone` (created if missing, reused if present) up to date with `bundle` and check `commit` out.

    Reusing the clone keeps asv's environments (inside it, under .asv/) between runs; `git clean`
    without -x leaves ignored files such as those environments alone.
    """
    if not (clone / ".git").is_dir():
        clone.mkdir(parents=True, exist_ok=True)
        _git(clone, "init", "--quiet")
    # Branches keep their names: asv looks up the branches of asv.conf.json in the clone.
    refspecs = ("+HEAD:refs/veracity/head", "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
    _git(clone, "fetch", "--quiet", "--force", "--update-head-ok", str(bundle), *refspecs)
    checkout_commit(clone, commit)
    return clone


def checkout_commit(clone: Path, commit: str) -> None:
    """Detach `clone` at `commit`, dropping tracked changes and untracked (not ignored) files."""
    _git(clone, "checkout", "--quiet", "--force", "--detach", commit)
    _git(clone, "clean", "--quiet", "-fd")


def has_commit(clone: Path, commit: str) -> bool:
    done = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=clone, capture_output=True, check=False, timeout=60
    )
    return done.returncode == 0
