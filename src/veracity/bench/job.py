"""`veracity bench` (make bench), the main job: measure the last N commits with asv, publish, report.

It wraps the asv commands users already know and adds what a single `asv run` leaves to the user:
a machine record answered non-interactively (with the hardware fingerprint in its name), the
embedded PostgreSQL started once for the whole run and stopped afterwards, commits that were
already measured on this machine skipped, and the regressions printed at the end.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from veracity.bench.database import shared_database
from veracity.config import Settings
from veracity.db.dsn import redact_dsn
from veracity.errors import ConfigError, VeracityError
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import RunOptions, check_bench_patterns, register_machine, run_benchmarks
from veracity.tracking.commands import regressions_report
from veracity.tracking.machine import current
from veracity.tracking.publish import publish_site


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
    machine = register_machine(asv_config, current())
    print(f"veracity: benchmarking {len(commits)} commit(s) on machine {machine}", flush=True)
    _prepare_models(settings)
    run_options = RunOptions(
        bench=patterns,
        machine=machine,
        quick=options.quick,
        interleave=False,  # history: each commit measured as it lands, as asv run does
        skip_existing=True,
        show_stderr=True,
    )
    with shared_database(settings) as db_env:
        # Failed benchmarks are results, listed below; asv failing to run at all raises.
        repairs = run_benchmarks(asv_config, commits, run_options, env=db_env)
    if repairs.summary():
        print(f"veracity: {repairs.summary()}", flush=True)
    for commit, keys in failed_benchmarks(asv_config.results_dir, machine, commits).items():
        print(f"veracity: {len(keys)} benchmark(s) failed at {commit[:8]} (the rest are kept): {', '.join(keys)}")
    if not options.publish:
        return 0
    html = publish_site(asv_config)
    print(f"veracity: site written to {html}; browse it with `asv preview` (http://127.0.0.1:8080)")
    print("veracity: open regressions of the latest commit (`veracity regressions` exits 1 when there are any):")
    try:
        print(regressions_report(asv_config, machine=machine).text)
    except VeracityError as exc:  # the site is published: say what is wrong with the report, as the command would
        print(f"veracity: error: {redact_dsn(str(exc))}", file=sys.stderr)
    return 0
