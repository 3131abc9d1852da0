"""`veracity explain`: profile one benchmark's body at two commits the same way and diff the profiles."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from veracity.explain.children import DEFAULT_ROUNDS, profile_pair
from veracity.explain.diff import Explanation, explain_profiles
from veracity.explain.render import summary_lines
from veracity.explain.worktrees import repo_root, resolve_commit, worktree
from veracity.pipeline.progress import progress_bar

DEFAULT_PASS_SECONDS = 1.0


def explain(
    where: Path,
    before: str,
    after: str,
    pattern: str,
    *,
    calls: int = 0,
    pass_seconds: float = DEFAULT_PASS_SECONDS,
    rounds: int = DEFAULT_ROUNDS,
    progress: bool = True,
) -> Explanation:
    """Profile the benchmark `pattern` names at `before` and at `after`, each in a worktree of its own.

    `calls` calls of the body a pass (0: as many as fill `pass_seconds` at `before`), the same at
    both commits; `rounds` rounds of every pass, alternating which commit goes first.
    """
    repo = repo_root(where)
    commits = (resolve_commit(repo, before), resolve_commit(repo, after))
    with contextlib.ExitStack() as stack:
        trees = []
        for commit in progress_bar(commits, enabled=progress, desc="checking out", unit="commit"):
            trees.append(stack.enter_context(worktree(repo, commit)))
        if progress and sys.stderr.isatty():
            print("veracity: profiling both commits (set-up, then alternating passes)...", file=sys.stderr)
        profiles = profile_pair(
            (trees[0], trees[1]), commits, pattern, calls=calls, target_s=pass_seconds, rounds=rounds
        )
    return explain_profiles(profiles[0], profiles[1], commits[0], commits[1])


def explain_summary(
    where: Path,
    before: str,
    after: str,
    benchmark: str,
    *,
    top: int = 1,
    calls: int = 0,
    pass_seconds: float = 0.5,
    rounds: int = 2,
) -> list[str]:
    """The top lines of an explanation, for a regression report: headline, stages, largest change of
    each profile. Costs two child processes (imports, set-up) and `rounds` x 4 passes of about
    `pass_seconds` a commit: 40-90 s for a model benchmark on a 2-CPU machine; a user error raises
    VeracityError as the command would report it."""
    found = explain(
        where, before, after, benchmark, calls=calls, pass_seconds=pass_seconds, rounds=rounds, progress=False
    )
    return summary_lines(found, top=top)
