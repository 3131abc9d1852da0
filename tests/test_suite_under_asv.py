"""Every benchmark of the real suite runs once under real asv, and none of them fails.

`test_asv_suite_e2e` runs two of the suite's benchmarks; a benchmark that errors anywhere else (a
renamed helper, a changed signature, a `setup` that raises) would stay green until someone runs
`make bench`. Here one `asv run --quick --python=same --launch-method forkserver` measures the
whole suite in this interpreter (the working tree's `veracity` and `benchmarks/`), one sample of
every benchmark and parameter combination, into a temporary results directory. A benchmark whose
value asv records as failed (`null`) fails the test, which names it; one that skips itself
(`NotImplementedError` in `setup`: asv stores NaN, shows n/a) is not a failure, but only the CUDA
variants may skip, and only on a machine without a GPU. Every pattern of
`benchmarks/quick_selection.txt` must select at least one benchmark of the suite asv discovered.

The suite runs against the session's database (the embedded server, or VERACITY_DATABASE_URL);
the benchmark schemas this run created are dropped afterwards. The asv output is kept in
test-artifacts/suite-under-asv.log.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from veracity.bench.job import QUICK_SELECTION, quick_selection
from veracity.tracking.asvrun import bench_environment, selected_by
from veracity.tracking.results import (
    BenchmarkInfo,
    BenchmarkResult,
    parse_benchmarks_json,
    parse_result_file,
    result_key,
)

pytestmark = [pytest.mark.asv, pytest.mark.slow, pytest.mark.models, pytest.mark.db]

REPO = Path(__file__).resolve().parents[1]
MACHINE = "suite-check"
ARTIFACTS = REPO / "test-artifacts"
# The run took 8-10 minutes on a 2-core machine shared with other test runs; the rest is margin.
RUN_TIMEOUT_S = 3600
# What the suite names its benchmark schemas (benchmarks.database.SCHEMA_PREFIX; not imported:
# importing the suite pins torch to one thread in this process).
SCHEMA_PREFIX = "veracity_bench_"
ASV_RUN_OK = (0, 2)  # 2: some benchmarks failed, which the tests below report by name


@dataclass(frozen=True)
class SuiteRun:
    benchmarks: dict[str, BenchmarkInfo]
    results: dict[str, BenchmarkResult]  # by key: `name` or `name(params)`
    output: str
    returncode: int
    seconds: float


def _config(tmp: Path) -> Path:
    """The project's asv.conf.json with every directory it writes moved under `tmp`."""
    from asv.util import load_json

    conf = load_json(str(REPO / "asv.conf.json"), js_comments=True)
    for key in ("matrix", "plugins", "build_command", "install_command"):
        conf.pop(key, None)  # an `existing` environment installs nothing; the plugin only publishes
    conf.update(
        repo=str(REPO),
        benchmark_dir=str(REPO / conf.get("benchmark_dir", "benchmarks")),
        env_dir=str(tmp / "env"),
        results_dir=str(tmp / "results"),
        html_dir=str(tmp / "html"),
    )
    path = tmp / "asv.conf.json"
    path.write_text(json.dumps(conf, indent=2))
    return path


def _asv(config: Path, *args: str, env: dict[str, str], log: Path, timeout: float) -> int:
    """Run `asv ARGS` in a process group of its own, output to `log`; the whole group is killed on a
    timeout or an interrupt (forkserver and benchmark processes included)."""
    argv = [sys.executable, "-m", "asv", *args[:1], "--config", str(config), *args[1:]]
    with open(log, "w") as out:
        process = subprocess.Popen(
            argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        try:
            return process.wait(timeout=timeout)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise


def _drop_new_schemas(dsn: str, since: float, before: set[str]) -> None:
    """Drop the benchmark schemas the run made: new since `before`, stamped after `since`, and owned
    by no live `asv run` (the suite's run is over; a concurrent `make bench` keeps its tables)."""
    import psutil
    from psycopg import sql

    from veracity.db.server import connect

    new = sorted(_bench_schemas(dsn) - before)
    with connect(dsn) as conn:
        for name in new:
            # `<prefix><unix time>[_<owner pid>_<code identity>]_<hex>`, as benchmarks.database names them
            fields = name.removeprefix(SCHEMA_PREFIX).split("_")
            if not fields[0].isdigit() or int(fields[0]) < int(since):
                continue
            owner = fields[1] if len(fields) >= 4 and fields[1].isdigit() else None
            if owner is None or not psutil.pid_exists(int(owner)):
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(name)))


def _bench_schemas(dsn: str) -> set[str]:
    from veracity.db.server import connect

    with connect(dsn) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE %s", ("veracity\\_bench\\_%",))
        return {name for (name,) in rows.fetchall()}


@pytest.fixture(scope="module")
def suite_run(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path, database_dsn: str) -> Iterator[SuiteRun]:
    tmp = tmp_path_factory.mktemp("suite-under-asv")
    home = tmp_path_factory.mktemp("home")
    config = _config(tmp)
    env = {
        **os.environ,
        **bench_environment(REPO / "asv.conf.json"),
        "HOME": str(home),  # asv's machine file; the user's ~/.asv-machine.json is never touched
        "VERACITY_CACHE_DIR": str(cache_dir),  # the models built there, the run memos
        "VERACITY_DATABASE_URL": database_dsn,
    }
    env.pop("ASV_CONFIG", None)
    # Build (or find) the default NLI model here: inside a benchmark its training would hit the timeout.
    from veracity.pipeline.nli_training import build_default_nli

    build_default_nli(cache_dir, show_progress=False)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.strip()
    machine = _asv(config, "machine", "--yes", "--machine", MACHINE, env=env, log=tmp / "machine.log", timeout=120)
    assert machine == 0, (tmp / "machine.log").read_text()[-3000:]

    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "suite-under-asv.log"
    before = _bench_schemas(database_dsn)
    started = time.time()
    try:
        code = _asv(
            config,
            "run",
            "--python=same",
            "--quick",
            "--launch-method",
            "forkserver",
            "--show-stderr",
            "--set-commit-hash",
            head,
            "--machine",
            MACHINE,
            "--durations",
            "15",
            env=env,
            log=log,
            timeout=RUN_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`asv run` of the suite took over {RUN_TIMEOUT_S} s:\n{log.read_text(errors='replace')[-5000:]}")
    finally:
        _drop_new_schemas(database_dsn, started, before)
    seconds = time.time() - started
    output = log.read_text(errors="replace")
    print(f"\nasv ran the whole suite once in {seconds:.0f} s; its output: {log}")
    assert code in ASV_RUN_OK, f"`asv run` itself failed (exit {code}):\n{output[-5000:]}"

    results_dir = tmp / "results"
    files = [p for p in (results_dir / MACHINE).glob("*.json") if p.name != "machine.json"]
    assert len(files) == 1, f"expected one result file, found {files}:\n{output[-3000:]}"
    results = {r.key: r for r in parse_result_file(files[0], MACHINE).results}
    yield SuiteRun(parse_benchmarks_json(results_dir / "benchmarks.json"), results, output, code, seconds)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _is_cuda_variant(name: str) -> bool:
    return "cuda" in name.rsplit(".", 2)[-2].lower()


# One line per benchmark in asv's output: `[ 5.00%] ··· <name, cut to `...<tail>` if long>  <value>`;
# its table rows and its stderr (`····`) follow until the next one.
_BENCHMARK_LINE = re.compile(r"^\[\s*[\d.]+%\] ··· (?P<name>[\w.]+)\s")
_RUN_LINE = re.compile(r"^\[\s*[\d.]+%\] ··? ")  # asv's own steps (the durations table), not a benchmark's


def _failure_lines(output: str, name: str) -> str:
    """asv's own lines about one benchmark (its result line, table and traceback), if it shows any failure."""
    blocks: list[list[str]] = []
    for line in output.splitlines():
        match = _BENCHMARK_LINE.match(line)
        if (match and match["name"].strip(".")) or _RUN_LINE.match(line):
            blocks.append([line])
        elif blocks:
            blocks[-1].append(line)
    for block in blocks:
        match = _BENCHMARK_LINE.match(block[0])
        shown = match["name"].lstrip(".") if match else ""
        if shown and name.endswith(shown) and any("failed" in line for line in block):
            text = "\n".join(line for line in block if line.strip())
            return text if len(text) < 4000 else "...\n" + text[-4000:]
    return ""


def test_every_benchmark_of_the_suite_runs_without_error(suite_run: SuiteRun) -> None:
    expected = {result_key(info.name, combo) for info in suite_run.benchmarks.values() for combo in info.combinations()}
    assert expected, "asv discovered no benchmarks in benchmarks/"
    missing = sorted(key for key in expected if key not in suite_run.results)
    failed = sorted(key for key, result in suite_run.results.items() if result.value is None)
    skipped = sorted(
        key for key, result in suite_run.results.items() if result.value is not None and math.isnan(result.value)
    )
    ran = len(suite_run.results) - len(failed) - len(skipped)
    print(f"{ran} benchmark values measured, {len(skipped)} skipped (n/a), {len(failed)} failed")
    problems = []
    if failed:
        names = sorted({suite_run.results[key].benchmark for key in failed})
        detail = "\n\n".join(text for name in names if (text := _failure_lines(suite_run.output, name)))
        problems.append(
            f"{len(failed)} benchmark value(s) of the suite failed under asv: {', '.join(failed)}\n{detail}"
        )
    if missing:
        problems.append(f"asv recorded nothing for {len(missing)} benchmark value(s): {', '.join(missing)}")
    # A skip is asv's n/a: right for a CUDA variant without a GPU, a hidden failure for anything else.
    wrong_skips = [k for k in skipped if not _is_cuda_variant(k.split("(", 1)[0]) or _cuda_available()]
    if wrong_skips:
        problems.append(
            f"{len(wrong_skips)} benchmark value(s) skipped themselves (NotImplementedError in setup, "
            f"asv shows n/a) where they should run: {', '.join(wrong_skips)}"
        )
    assert not problems, "\n\n".join(problems)


def test_every_quick_selection_pattern_selects_a_benchmark(suite_run: SuiteRun) -> None:
    keys = [
        key
        for info in suite_run.benchmarks.values()
        for key in {info.name, *(result_key(info.name, combo) for combo in info.combinations())}
    ]
    patterns = quick_selection(REPO)
    assert patterns, f"{QUICK_SELECTION} holds no patterns"
    empty = [pattern for pattern in patterns if not any(selected_by([pattern], key) for key in keys)]
    assert not empty, f"{QUICK_SELECTION}: these patterns select no benchmark of the suite: {empty}"


def test_every_committed_target_resolves_to_a_benchmark_with_data(suite_run: SuiteRun) -> None:
    """A target that names nothing could never fail (issue 22, point 5): each one must match a benchmark
    of the suite, and that benchmark must have measured a value in this run."""
    from veracity.tracking.results import benchmark_keys
    from veracity.tracking.targets import evaluate_target, load_targets

    targets = load_targets(REPO / "benchmarks" / "targets.toml")
    keys = benchmark_keys(suite_run.benchmarks)
    statuses = [evaluate_target(t, list(suite_run.results.values()), keys) for t in targets]
    unresolved = [f"{s.target.title} ({s.target.benchmark}): {s.status.value}" for s in statuses if s.key is None]
    assert not unresolved, f"targets without a benchmark or data: {unresolved}"
