"""The code of a commit on disk: a detached git worktree, and the environment that runs it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from veracity.errors import InputError, VeracityError


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=False)


def repo_root(where: Path) -> Path:
    """The top of the git repository holding `where`, or an InputError saying there is none."""
    done = _git(where, "rev-parse", "--show-toplevel")
    if done.returncode != 0:
        raise InputError(f"{where} is not in a git repository; run veracity explain from the project's checkout")
    return Path(done.stdout.strip())


def resolve_commit(repo: Path, name: str) -> str:
    """The full hash of a commit name (hash, branch, tag, HEAD~1), or an InputError."""
    done = _git(repo, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}")
    if done.returncode != 0 or not done.stdout.strip():
        raise InputError(f"unknown commit {name!r} in {repo}; give a hash, branch or tag that `git log` shows")
    return done.stdout.strip()


@contextlib.contextmanager
def worktree(repo: Path, commit: str) -> Iterator[Path]:
    """A detached worktree of `commit` in a temporary folder, removed again on the way out."""
    with tempfile.TemporaryDirectory(prefix=f"veracity-explain-{commit[:8]}-") as tmp:
        path = Path(tmp) / "tree"
        done = _git(repo, "worktree", "add", "--detach", "--quiet", str(path), commit)
        if done.returncode != 0:
            raise VeracityError(f"git could not check out {commit[:8]} ({done.stderr.strip()}); check the repository")
        try:
            yield path
        finally:
            _git(repo, "worktree", "remove", "--force", str(path))
            _git(repo, "worktree", "prune")


def child_env(tree: Path) -> dict[str, str]:
    """This interpreter's environment with the commit's `veracity` and `benchmarks` first on the path.

    The virtual environment still provides the dependencies: a commit that changed them is
    profiled with today's.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(tree / "src"), str(tree)])
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MKL_NUM_THREADS", "1")
    return env
