"""The one seam through which veracity starts asv: every asv command line is spelled by `asv_argv`.

`bench`, `continuous`, `compare` (its re-runs), `calibrate`, `publish` and the cloud shards all go
through here: the environment of the benchmark processes, the machine record, `--bench` selection,
interleaved rounds, quick mode, and a process group that an interrupt stops whole.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from veracity.errors import AsvRunError, ConfigError, VeracityError
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.gitrepo import rev_parse
from veracity.tracking.machine import Fingerprint
from veracity.tracking.resultsguard import Repairs, guard_results

STOP_GRACE_S = 15

# asv run exits 2 when some benchmarks failed: their failures are results, not a broken run.
ASV_RUN_OK = (0, 2)


def asv_argv(config: AsvConfig, subcommand: str, *args: str) -> list[str]:
    """The command line of `asv SUBCOMMAND --config CONFIG ARGS...` from this interpreter.

    The only place in veracity that spells an asv command line: every caller goes through
    `run_asv`, which goes through here.
    """
    if importlib.util.find_spec("asv") is None:
        raise ConfigError("asv is not installed; run `make install` (it comes with the dev extras)")
    return [sys.executable, "-m", "asv", subcommand, "--config", str(config.path), *args]


def run_asv(
    config: AsvConfig,
    subcommand: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    quiet: bool = False,
    ok: Sequence[int] = (0,),
) -> int:
    """Run one asv command from the config's folder, streaming its output (kept back if `quiet`).

    `env` is added to this process's environment. An exit code not in `ok` raises AsvRunError with
    what asv said (its last lines when quiet). asv runs in a process group of its own, stopped
    whole on an interrupt (forkserver and benchmark processes included).
    """
    argv = asv_argv(config, subcommand, *args)
    code, output = run_process_group(argv, cwd=config.root, env={**os.environ, **(env or {})}, capture=quiet)
    if code not in ok:
        shown = " ".join([subcommand, *args])
        raise AsvRunError(f"`asv {shown}` failed with exit code {code}; {failure_detail(output, quiet)}")
    return code


def bench_environment(config_path: Path) -> dict[str, str]:
    """Variables every benchmark process needs: one thread, offline models, pinned transitive dependencies."""
    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    constraints = Path(config_path).resolve().parent / "constraints.txt"
    if constraints.is_file():
        env["PIP_CONSTRAINT"] = str(constraints)
    return env


def register_machine(config: AsvConfig, fingerprint: Fingerprint, *, quiet: bool = False) -> str:
    """Answer `asv machine` without questions; the name carries the CPU, ISA level and GPU."""
    name = fingerprint.machine_name
    run_asv(
        config,
        "machine",
        "--yes",
        "--machine",
        name,
        "--cpu",
        fingerprint.cpu_description(),
        "--num_cpu",
        str(fingerprint.cores),
        "--ram",
        f"{fingerprint.ram_gb}GB",
        "--arch",
        fingerprint.arch,
        "--os",
        fingerprint.os,
        quiet=quiet,
    )
    return name


@dataclass(frozen=True)
class RunOptions:
    """How `asv run` measures, as every caller asks for it.

    `interleave`: several commits are measured with their rounds in alternating order (A B B A ...),
    as `asv continuous` measures. `asv run` itself does not interleave by default (asv 0.6.6): it
    measured every round of the first commit, then every round of the next, minutes later, so the
    drift of the machine between the two went into every paired comparison (a one-round
    vector-search twin read 10-19% apart, the first always faster; pipeline runs read the first
    commit 8-9% slower, whichever it was). History runs (`veracity bench`) measure commits as they
    land and do not interleave.
    """

    bench: tuple[str, ...] = ()
    machine: str | None = None
    quick: bool = False
    interleave: bool = True
    append_samples: bool = False
    skip_existing: bool = False
    show_stderr: bool = False
    launch_method: str | None = None
    # One round of every benchmark, whatever its `rounds` (`-a rounds=1`): a run that measures rounds
    # one asv run at a time (tracking.rounds), so each round's values can be read apart.
    single_round: bool = False


def _run_args(config: AsvConfig, commits: Sequence[str], options: RunOptions) -> list[str]:
    # Raw samples, not only asv's summary: detection runs a rank test on them.
    args = ["--record-samples"]
    if options.interleave and len(commits) > 1 and not config.uses_existing_env:
        args.append("--interleave-rounds")
    if options.append_samples:
        args.append("--append-samples")
    if options.skip_existing:
        args.append("--skip-existing-commits")
    if options.show_stderr:
        args.append("--show-stderr")
    if options.quick:
        args.append("--quick")
    if options.launch_method:
        args += ["--launch-method", options.launch_method]
    if options.single_round:
        args += ["--attribute", "rounds=1"]
    for pattern in options.bench:
        args += ["--bench", pattern]
    if options.machine:
        args += ["--machine", options.machine]
    return args


def run_benchmarks(
    config: AsvConfig,
    commits: Sequence[str],
    options: RunOptions = RunOptions(),
    *,
    env: Mapping[str, str] | None = None,
    quiet: bool = False,
) -> Repairs:
    """`asv run` of `commits` (full hashes) with the benchmark environment (and `env` on top).

    asv exits 0, or 2 when some benchmarks failed (their failures are results: read them from the
    result files); anything else raises. The result files are guarded: a run that is interrupted or
    fails leaves the earlier ones whole, and the Repairs returned say what had to be mended.

    With an `existing` environment asv cannot check out commits: only the checked-out commit can
    be benchmarked, and it is recorded under its hash with --set-commit-hash.
    """
    args = _run_args(config, commits, options)
    env = {**bench_environment(config.path), **(env or {})}
    if config.uses_existing_env:
        head = checked_out_commit(config)
        for commit in commits:
            if commit != head:
                raise AsvRunError(
                    f"asv.conf.json uses an existing environment, which only benchmarks the checked-out "
                    f"commit ({(head or '?')[:8]}), not {commit[:8]}; check it out or use a virtualenv environment"
                )
        with guard_results(config.results_dir) as repairs:
            run_asv(config, "run", *args, "--set-commit-hash", commits[0], env=env, quiet=quiet, ok=ASV_RUN_OK)
        return repairs
    fd, hashfile = tempfile.mkstemp(prefix="veracity-hashes-", suffix=".txt")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write("\n".join(commits) + "\n")
        with guard_results(config.results_dir) as repairs:
            run_asv(config, "run", f"HASHFILE:{hashfile}", *args, env=env, quiet=quiet, ok=ASV_RUN_OK)
        return repairs
    finally:
        os.unlink(hashfile)


def publish(config: AsvConfig, html_dir: Path, *, env: Mapping[str, str] | None = None, quiet: bool = False) -> None:
    """`asv publish` into `html_dir` (publish_site swaps it in whole)."""
    run_asv(config, "publish", "--html-dir", str(html_dir), env=env, quiet=quiet)


def bench_regex(key: str) -> str:
    """An asv --bench regex that selects exactly one benchmark, or one parameter combination of it."""
    return "^" + re.escape(key) + "$"


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


def checked_out_commit(config: AsvConfig) -> str | None:
    return rev_parse(config.repo, "HEAD")


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
    from veracity.tracking.results import benchmark_keys, parse_benchmarks_json

    keys: list[str] | None = None
    for pattern in patterns:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"--bench {pattern!r} is not a valid regular expression ({exc})") from None
        if keys is None:
            try:
                keys = benchmark_keys(parse_benchmarks_json(benchmarks_json)) if benchmarks_json.is_file() else []
            except VeracityError:
                keys = []  # asv rewrites a bad benchmarks.json when it discovers the suite
        if keys and not any(regex.search(key) for key in keys):
            if _suite_changed_since(suite_dir, benchmarks_json):
                continue
            raise ConfigError(
                f"--bench {pattern!r} matches no benchmark (there are {len(keys)}, e.g. {sorted(keys)[0]}); "
                "check the name or list them with `asv check`"
            )
