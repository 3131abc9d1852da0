"""Start asv commands for the tracker: benchmark chosen commits, and re-run chosen benchmarks."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.errors import AsvRunError
from veracity.tracking.gitrepo import rev_parse

# asv run exits 2 when some benchmarks failed: their failures are results, not a broken run.
_OK_CODES = (0, 2)


def asv_argv(config: AsvConfig, *args: str) -> list[str]:
    """The command line of asv from this interpreter, pointed at `config`."""
    return [sys.executable, "-m", "asv", "--config", str(config.path), *args]


def bench_regex(key: str) -> str:
    """An asv --bench regex that selects exactly one benchmark, or one parameter combination of it."""
    return "^" + re.escape(key) + "$"


def _run(argv: Sequence[str], cwd: Path, quiet: bool) -> None:
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            check=False,
            stdout=subprocess.PIPE if quiet else None,
            stderr=subprocess.STDOUT if quiet else None,
            text=True,
        )
    except OSError as exc:
        raise AsvRunError(f"cannot start asv ({exc}); install it with `pip install asv`") from None
    if done.returncode not in _OK_CODES:
        tail = (done.stdout or "").strip().splitlines()[-5:] if quiet else []
        detail = (": " + " / ".join(tail)) if tail else ""
        raise AsvRunError(f"`{' '.join(argv[3:])}` failed with exit code {done.returncode}{detail}")


def checked_out_commit(config: AsvConfig) -> str | None:
    return rev_parse(config.repo, "HEAD")


def run_benchmarks(
    config: AsvConfig,
    commits: Sequence[str],
    *,
    bench: Sequence[str] = (),
    machine: str | None = None,
    append_samples: bool = False,
    extra: Sequence[str] = (),
    quiet: bool = False,
) -> None:
    """`asv run --record-samples` of `commits` (full hashes), optionally only the `bench` regexes.

    With an `existing` environment asv cannot check out commits: only the checked-out commit can
    be benchmarked, and it is recorded under its hash with --set-commit-hash.
    """
    args = ["run", "--record-samples"]
    if append_samples:
        args.append("--append-samples")
    for regex in bench:
        args += ["--bench", regex]
    if machine:
        args += ["--machine", machine]
    args += list(extra)
    if config.uses_existing_env:
        head = checked_out_commit(config)
        for commit in commits:
            if commit != head:
                raise AsvRunError(
                    f"asv.conf.json uses an existing environment, which only benchmarks the checked-out "
                    f"commit ({(head or '?')[:8]}), not {commit[:8]}; check it out or use a virtualenv environment"
                )
        _run(asv_argv(config, *args, "--set-commit-hash", commits[0]), config.root, quiet)
        return
    fd, hashfile = tempfile.mkstemp(prefix="veracity-hashes-", suffix=".txt")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(commits) + "\n")
        _run(asv_argv(config, *args, f"HASHFILE:{hashfile}"), config.root, quiet)
    finally:
        os.unlink(hashfile)


def can_run(config: AsvConfig, commit: str) -> bool:
    """Whether asv can benchmark `commit` with this config (any commit, unless the env is `existing`)."""
    return not config.uses_existing_env or checked_out_commit(config) == commit
