"""`make bench`, the main job: measure the last N commits with asv, publish html/, report regressions.

It wraps the asv commands users already know and adds what a single `asv run` leaves to the user:
a machine record answered non-interactively (with the hardware fingerprint in its name), the
embedded PostgreSQL started once for the whole run and stopped afterwards, commits that were
already measured on this machine skipped, and the regressions printed at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from veracity.config import Settings
from veracity.errors import ConfigError, VeracityError
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import check_bench_patterns, failure_detail, run_process_group
from veracity.tracking.machine import Fingerprint, current
from veracity.tracking.resultsguard import guard_results

# asv run exits 2 when benchmarks failed (their failures are results); 1 means asv itself failed.
_ASV_RUN_OK = (0, 2)


@dataclass(frozen=True)
class BenchOptions:
    """What `veracity bench` was asked to do."""

    commits: int = 5
    quick: bool = False
    bench: tuple[str, ...] = ()
    config: Path = Path("asv.conf.json")
    publish: bool = True


QUICK_SELECTION = Path("benchmarks") / "quick_selection.txt"


def quick_selection(repo: Path) -> tuple[str, ...]:
    """The asv `--bench` patterns `--quick` runs when none are given (blank lines and # comments skipped).

    The grid shrinks only through asv's own parameter selection: a pattern like
    `IvfflatSearch.*\\((1000|10000), 50, (1|10)\\)` picks single points of a parameter grid.
    """
    path = repo / QUICK_SELECTION
    if not path.is_file():
        return ()
    lines = (line.strip() for line in path.read_text().splitlines())
    return tuple(line for line in lines if line and not line.startswith("#"))


def asv_executable() -> str:
    """The asv beside this interpreter (the project venv), else the one on PATH."""
    beside = Path(sys.executable).with_name("asv")
    if beside.is_file():
        return str(beside)
    found = shutil.which("asv")
    if not found:
        raise ConfigError("asv is not installed; run `make install` (it comes with the dev extras)")
    return found


def run_asv(
    args: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    check: bool = True,
    ok: Sequence[int] = (0,),
    quiet: bool = False,
) -> int:
    """Run one asv command with our environment, streaming its output (kept back if `quiet`); an exit
    code not in `ok` raises if `check`.

    asv runs in a process group of its own, stopped whole on an interrupt (forkserver and
    benchmark processes included).
    """
    code, output = run_process_group([asv_executable(), *args], env={**os.environ, **(env or {})}, capture=quiet)
    if check and code not in ok:
        raise VeracityError(f"`asv {' '.join(args)}` failed with exit code {code}; {failure_detail(output, quiet)}")
    return code


def failed_benchmarks(results_dir: Path, machine: str, commits: Sequence[str]) -> dict[str, list[str]]:
    """Commit -> benchmarks (with parameters) that failed there, from the result files asv kept."""
    from veracity.errors import ResultsError
    from veracity.tracking.results import ResultsStore

    store = ResultsStore(results_dir)
    failed: dict[str, list[str]] = {}
    try:
        for commit in commits:
            keys = sorted({r.key for r in store.results_for(machine, commit) if r.value is None})
            if keys:
                failed[commit] = keys
    except ResultsError:
        return failed
    return failed


def bench_environment(config: Path) -> dict[str, str]:
    """Variables every benchmark process needs: one thread, offline models, pinned transitive dependencies."""
    env = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    constraints = config.resolve().parent / "constraints.txt"
    if constraints.is_file():
        env["PIP_CONSTRAINT"] = str(constraints)
    return env


def register_machine(config: Path, fingerprint: Fingerprint, *, quiet: bool = False) -> str:
    """Answer `asv machine` without questions; the name carries the CPU, ISA level and GPU."""
    name = fingerprint.machine_name
    run_asv(
        [
            "machine",
            "--yes",
            "--config",
            str(config),
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
        ],
        quiet=quiet,
    )
    return name


def recent_commits(count: int, repo: Path) -> list[str]:
    """The last `count` commits of the current branch, oldest first (first-parent history)."""
    if count < 1:
        raise ConfigError("--commits must be at least 1")
    try:
        out = subprocess.run(
            ["git", "rev-list", "--first-parent", f"--max-count={count}", "HEAD"],
            cwd=repo,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
    except subprocess.CalledProcessError as exc:
        if "unknown revision" in exc.stderr or "does not have any commits" in exc.stderr:
            raise VeracityError(f"{repo} has no commits to benchmark; commit something first") from None
        reason = (exc.stderr.strip().splitlines() or [str(exc)])[0]
        raise VeracityError(f"cannot list commits in {repo}: {reason}") from None
    if not out:
        raise VeracityError(f"{repo} has no commits to benchmark")
    return list(reversed(out))


@contextlib.contextmanager
def shared_database(settings: Settings) -> Iterator[dict[str, str]]:
    """One embedded server for the whole run (benchmark processes `_exit` and cannot stop it)."""
    if settings.database_url:
        yield {}
        return
    from veracity.db.server import EmbeddedServer, stop_embedded

    dsn = EmbeddedServer(settings.cache_dir, keep_running=True).start()
    try:
        yield {"VERACITY_DATABASE_URL": dsn}
    finally:
        _drop_bench_schemas(dsn)
        stop_embedded(settings.cache_dir)


def _drop_bench_schemas(dsn: str) -> None:
    from psycopg import sql

    from veracity.db.server import connect

    with contextlib.suppress(VeracityError), connect(dsn) as conn:
        for (name,) in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'veracity\\_%'").fetchall():
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def _prepare_models(settings: Settings) -> None:
    """Build the default NLI model before asv starts: trained inside a benchmark it would time out."""
    from veracity.config import DEFAULT_NLI_MODEL

    if settings.nli_model == DEFAULT_NLI_MODEL:
        from veracity.pipeline.nli_training import build_default_nli

        report = build_default_nli(settings.cache_dir, show_progress=True)
        if report.built:
            print(f"veracity: built the default NLI model in {report.seconds:.0f} s", flush=True)


def run_bench(options: BenchOptions, settings: Settings) -> int:
    """The whole main job. Returns 0 once the site is published: the regressions are printed, and
    `veracity regressions` is the command whose exit code gates CI."""
    config = options.config
    if not config.is_file():
        raise ConfigError(f"{config} not found; run from the repository root or pass --config")
    asv_config = AsvConfig.load(config)  # a malformed file is one line here, not asv's traceback later
    repo = config.resolve().parent
    commits = recent_commits(options.commits, repo)
    patterns = options.bench or (quick_selection(repo) if options.quick else ())
    check_bench_patterns(patterns, asv_config.results_dir / "benchmarks.json", asv_config.benchmark_dir)
    machine = register_machine(config, current())
    print(f"veracity: benchmarking {len(commits)} commit(s) on machine {machine}", flush=True)
    env = bench_environment(config)
    _prepare_models(settings)
    with (
        shared_database(settings) as db_env,
        tempfile.NamedTemporaryFile("w", suffix=".txt") as hashes,
        guard_results(asv_config.results_dir) as repairs,
    ):
        hashes.write("\n".join(commits) + "\n")
        hashes.flush()
        args = ["run", f"HASHFILE:{hashes.name}", "--config", str(config), "--machine", machine]
        # Raw samples, not only asv's summary: detection runs a rank test on them.
        args += ["--skip-existing-commits", "--show-stderr", "--record-samples"]
        if options.quick:
            args.append("--quick")
        for pattern in patterns:
            args += ["--bench", pattern]
        # Failed benchmarks are results (exit 2), listed below; exit 1 means asv could not run at all.
        run_asv(args, env={**env, **db_env}, ok=_ASV_RUN_OK)
    if repairs.summary():
        print(f"veracity: {repairs.summary()}", flush=True)
    for commit, keys in failed_benchmarks(asv_config.results_dir, machine, commits).items():
        print(f"veracity: {len(keys)} benchmark(s) failed at {commit[:8]} (the rest are kept): {', '.join(keys)}")
    if not options.publish:
        return 0
    from veracity.tracking.publish import publish_site

    html = publish_site(asv_config, env=env, asv=asv_executable())
    print(f"veracity: site written to {html}; browse it with `asv preview` (http://127.0.0.1:8080)")
    print("veracity: open regressions of the latest commit (`veracity regressions` exits 1 when there are any):")
    from veracity.tracking.cli import main as tracking_main

    tracking_main(["regressions", "--config", str(config), "--machine", machine])
    return 0
