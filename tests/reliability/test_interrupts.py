"""SIGINT and SIGTERM while the project's commands write: old results and html/ intact, re-runs resume, no server left.

Each signal is real and goes to a real `veracity` process at the moment asv is writing a file:
the fault-injection start-up hook (faultinject/sitecustomize.py) lets asv write the first part
of the chosen file, flush it, announce it and wait, so the file on disk is truncated when the
signal arrives. Afterwards every previous result file and the previous site must be byte for
byte what they were, the embedded PostgreSQL of the run stopped, and a re-run must finish the work.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_helpers import (
    postgres_processes,
    private_cache,
    snapshot,
    start_veracity,
    venv_toy,
    veracity,
    wait_for,
)
from toy_suite import ToyRepo

pytestmark = [pytest.mark.asv, pytest.mark.db, pytest.mark.slow]

FAULTINJECT = Path(__file__).resolve().parent / "faultinject"


class Measured:
    """A toy project measured and published once by `veracity bench`, with its own embedded server."""

    def __init__(self, repo: ToyRepo, cache: Path) -> None:
        self.repo = repo
        self.cache = cache
        self.results = repo.root / ".asv" / "results"
        self.html = repo.root / "html"

    def bench(self, *extra: str) -> list[str]:
        return ["bench", "--config", str(self.repo.config), "--cache-dir", str(self.cache), *extra]

    def state(self) -> tuple[dict[str, bytes], dict[str, bytes]]:
        return snapshot(self.results), snapshot(self.html)


@pytest.fixture(scope="module")
def measured(isolated_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Measured:
    root = tmp_path_factory.mktemp("interrupts")
    project = Measured(venv_toy(root / "toy"), private_cache(root / "cache"))
    project.repo.commit("one")
    done = veracity(*project.bench("--commits", "1"), cwd=project.repo.root, timeout=400)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (project.html / "index.html").is_file()
    return project


def signal_while_writing(
    project: Measured, argv: list[str], pattern: str, sig: signal.Signals, marker: Path
) -> tuple[int, str, str]:
    """Start `veracity argv`, wait until asv has half written a file matching `pattern`, send `sig`."""
    env = {
        "PYTHONPATH": str(FAULTINJECT),
        "VERACITY_FAULT": "pause",
        "VERACITY_FAULT_PATHS": pattern,
        "VERACITY_FAULT_MARKER": str(marker),
    }
    process = start_veracity(*argv, cwd=project.repo.root, env=env)
    wait_for(marker.exists, 300, f"asv to start writing {pattern}", process)
    process.send_signal(sig)
    out, err = process.communicate(timeout=120)
    return process.returncode, out, err


def assert_stopped_cleanly(code: int, err: str, project: Measured) -> None:
    assert code == 130, err[-3000:]
    assert "veracity: interrupted" in err
    assert postgres_processes(project.cache / "pgdata") == [], "the embedded PostgreSQL was left running"
    leftovers = [p.name for p in project.repo.root.glob(".html.*")]
    assert leftovers == [], f"staging folders left behind: {leftovers}"


@pytest.mark.parametrize(
    ("sig", "target"),
    [(signal.SIGINT, "the new commit's result file"), (signal.SIGTERM, "benchmarks.json")],
    ids=["SIGINT-result-file", "SIGTERM-benchmarks-json"],
)
def test_bench_interrupted_while_asv_writes_keeps_results_and_resumes(
    measured: Measured, tmp_path: Path, sig: signal.Signals, target: str
) -> None:
    new = measured.repo.commit(f"new-{sig.name.lower()}")
    before_results, before_html = measured.state()
    pattern = f"*/.asv/results/*/{new[:8]}-*.json" if "result" in target else "*/.asv/results/benchmarks.json"
    code, _, err = signal_while_writing(
        measured, measured.bench("--commits", "1", "--no-publish"), pattern, sig, tmp_path / "writing"
    )
    assert_stopped_cleanly(code, err, measured)
    assert measured.state() == (before_results, before_html), f"{target}: a previous file changed or a partial stayed"

    rerun = veracity(*measured.bench("--commits", "2", "--no-publish"), cwd=measured.repo.root, timeout=400)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    after = snapshot(measured.results)
    assert {k: after[k] for k in before_results if k != "benchmarks.json"} == {
        k: v for k, v in before_results.items() if k != "benchmarks.json"
    }, "the re-run measured again what was already measured"
    assert [k for k in after if new[:8] in k], "the re-run did not measure the interrupted commit"


def test_publish_interrupted_keeps_the_previous_site(measured: Measured, tmp_path: Path) -> None:
    before_results, before_html = measured.state()
    argv = ["publish", "--config", str(measured.repo.config)]
    code, _, err = signal_while_writing(measured, argv, "*/.html.new-*/*", signal.SIGINT, tmp_path / "writing")
    assert_stopped_cleanly(code, err, measured)
    assert measured.state() == (before_results, before_html)

    rerun = veracity(*argv, cwd=measured.repo.root, timeout=300)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert json.loads((measured.html / "index.json").read_text())["revision_to_hash"]


def test_bench_terminated_while_publishing_keeps_the_previous_site(measured: Measured, tmp_path: Path) -> None:
    before_results, before_html = measured.state()
    code, _, err = signal_while_writing(
        measured, measured.bench("--commits", "1"), "*/.html.new-*/*", signal.SIGTERM, tmp_path / "writing"
    )
    assert_stopped_cleanly(code, err, measured)
    results, html = measured.state()
    assert html == before_html
    assert {k: v for k, v in results.items() if k != "benchmarks.json"} == {
        k: v for k, v in before_results.items() if k != "benchmarks.json"
    }


def test_continuous_terminated_while_asv_rewrites_existing_results_restores_them(
    measured: Measured, tmp_path: Path
) -> None:
    one = measured.repo.commits["one"]
    head = measured.repo.commit("continuous-head")
    before_results, before_html = measured.state()
    machine = next(measured.results.glob(f"*/{one[:8]}-*.json")).parent.name  # the one `veracity bench` named
    argv = ["continuous", one, head, "--config", str(measured.repo.config), "--machine", machine, "--rerun", "0", "-q"]
    code, _, err = signal_while_writing(
        measured, argv, f"*/.asv/results/*/{one[:8]}-*.json", signal.SIGTERM, tmp_path / "writing"
    )
    assert_stopped_cleanly(code, err, measured)
    results, html = measured.state()
    assert html == before_html
    assert {k: v for k, v in results.items() if head[:8] not in k} == before_results, "previous results were changed"


def test_sigterm_runs_cleanup_like_ctrl_c() -> None:
    """SIGTERM becomes KeyboardInterrupt: `finally` blocks run (servers stopped, partial files kept), exit 130."""
    script = (
        "import sys, time\n"
        "from veracity.cli import data, main\n"
        "def hang(args):\n"
        "    try:\n"
        "        print('ready', flush=True)\n"
        "        time.sleep(60)\n"
        "    finally:\n"
        "        print('cleaned up', flush=True)\n"
        "data.run = hang\n"
        "sys.exit(main(['data', 'check']))\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert process.returncode == 130 and "cleaned up" in out and "veracity: interrupted" in err
