"""Start asv commands for the tracker: benchmark chosen commits, and re-run chosen benchmarks."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from veracity.errors import AsvRunError, ConfigError, VeracityError
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.gitrepo import rev_parse
from veracity.tracking.resultsguard import guard_results

STOP_GRACE_S = 15

# asv run exits 2 when some benchmarks failed: their failures are results, not a broken run.
_OK_CODES = (0, 2)


def asv_argv(config: AsvConfig, *args: str) -> list[str]:
    """The command line of asv from this interpreter, pointed at `config`."""
    return [sys.executable, "-m", "asv", "--config", str(config.path), *args]


def bench_regex(key: str) -> str:
    """An asv --bench regex that selects exactly one benchmark, or one parameter combination of it."""
    return "^" + re.escape(key) + "$"


INTERLEAVE_FLAGS = frozenset({"--interleave-rounds", "--no-interleave-rounds"})


def selected_by(patterns: Sequence[str], key: str) -> bool:
    """Whether asv's `--bench` patterns select a result key, as asv matches them: by search in the
    benchmark name, or in `name(params)` for one combination of a parameterized benchmark."""
    return not patterns or any(re.search(p, key) for p in patterns)


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGINT the whole process group of `process`, then SIGKILL whatever is left after a grace period."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE_S)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def run_process_group(
    argv: Sequence[str], *, cwd: Path | None = None, env: Mapping[str, str] | None = None, capture: bool = False
) -> tuple[int, str]:
    """Run `argv` in a process group of its own and return (exit code, captured output).

    On an interrupt (Ctrl-C, or SIGTERM turned into KeyboardInterrupt) the whole group is
    stopped, asv's forkserver and benchmark processes included, before the interrupt goes on.
    """
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=subprocess.PIPE if capture else None,
            stderr=subprocess.STDOUT if capture else None,
            text=True,
            start_new_session=True,
        )
    except OSError as exc:
        raise AsvRunError(f"cannot start {argv[0]} ({exc.strerror or exc}); install asv with `make install`") from None
    try:
        output, _ = process.communicate()
    except BaseException:
        stop_process_group(process)
        raise
    return process.returncode, output or ""


def failure_detail(output: str, captured: bool) -> str:
    """What a failed command said, for a one-line error: its last lines if its output was captured,
    else a pointer to the output the user just saw."""
    return " / ".join(output.strip().splitlines()[-3:]) if captured else "see its output above"


def _run(argv: Sequence[str], cwd: Path, quiet: bool) -> None:
    code, output = run_process_group(argv, cwd=cwd, capture=quiet)
    if code not in _OK_CODES:
        tail = output.strip().splitlines()[-5:] if quiet else []
        detail = (": " + " / ".join(tail)) if tail else ""
        raise AsvRunError(f"`{' '.join(argv[3:])}` failed with exit code {code}{detail}")


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

    Several commits are measured with their rounds interleaved in alternating order (A B B A ...),
    as `asv continuous` measures, unless `extra` says `--no-interleave-rounds`. `asv run` itself
    does not interleave by default (asv 0.6.6): it measured every round of the first commit, then
    every round of the next, minutes later, so the drift of the machine between the two went into
    every paired comparison (a one-round vector-search twin read 10-19% apart, the first always
    faster; pipeline runs read the first commit 8-9% slower, whichever it was).

    With an `existing` environment asv cannot check out commits: only the checked-out commit can
    be benchmarked, and it is recorded under its hash with --set-commit-hash.
    """
    args = ["run", "--record-samples"]
    if len(commits) > 1 and not config.uses_existing_env and not {*extra} & INTERLEAVE_FLAGS:
        args.append("--interleave-rounds")
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
        with guard_results(config.results_dir):
            _run(asv_argv(config, *args, "--set-commit-hash", commits[0]), config.root, quiet)
        return
    fd, hashfile = tempfile.mkstemp(prefix="veracity-hashes-", suffix=".txt")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(commits) + "\n")
        with guard_results(config.results_dir):
            _run(asv_argv(config, *args, f"HASHFILE:{hashfile}"), config.root, quiet)
    finally:
        os.unlink(hashfile)


def can_run(config: AsvConfig, commit: str) -> bool:
    """Whether asv can benchmark `commit` with this config (any commit, unless the env is `existing`)."""
    return not config.uses_existing_env or checked_out_commit(config) == commit


def _suite_changed_since(suite_dir: Path | None, benchmarks_json: Path) -> bool:
    """True when a module of the suite is newer than asv's record of it (a benchmark may have been added)."""
    if suite_dir is None or not suite_dir.is_dir():
        return False
    seen = benchmarks_json.stat().st_mtime
    return any(p.stat().st_mtime > seen for p in suite_dir.rglob("*.py"))


def check_bench_patterns(patterns: Sequence[str], benchmarks_json: Path, suite_dir: Path | None = None) -> None:
    """Refuse a --bench regex that is invalid, or that matches no benchmark asv has seen, before any work.

    asv matches the regex against names and `name(params)` keys alike; so does this check. When
    the suite changed since asv last listed it, an unmatched pattern is left for asv to judge (it
    stops with "No benchmarks selected", which the callers report as one line too).
    """
    from veracity.tracking.results import parse_benchmarks_json, result_key

    keys: list[str] | None = None
    for pattern in patterns:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"--bench {pattern!r} is not a valid regular expression ({exc})") from None
        if keys is None:
            try:
                infos = parse_benchmarks_json(benchmarks_json).values() if benchmarks_json.is_file() else []
            except VeracityError:
                infos = []  # asv rewrites a bad benchmarks.json when it discovers the suite
            keys = [k for info in infos for k in (info.name, *(result_key(info.name, c) for c in info.combinations()))]
        if keys and not any(regex.search(key) for key in keys):
            if _suite_changed_since(suite_dir, benchmarks_json):
                continue
            raise ConfigError(
                f"--bench {pattern!r} matches no benchmark (there are {len(keys)}, e.g. {sorted(keys)[0]}); "
                "check the name or list them with `asv check`"
            )
