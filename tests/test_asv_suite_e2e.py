"""The real asv suite end to end: a planted slowdown in one stage is the only regression asv reports,
and the published site shows it in a real browser.

A copy of this repository becomes a temporary git repo with two commits: a baseline, then one that
makes the exact numpy search do its work three times. asv builds and installs each commit's wheel
into the project's virtualenv environment (the same `.asv/env` that `make bench` uses, created here
if missing) and runs a small selection of the real suite on both; then `asv publish` and
`asv compare` must name that benchmark and no other.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = [pytest.mark.asv, pytest.mark.slow, pytest.mark.models]

REPO = Path(__file__).resolve().parents[1]
PLANTED = "vector_search.NumpyExactSearch.time_query"
CONTROL = "nli.NliQuality.track_held_out_accuracy"
SELECTION = ["--bench", r"vector_search\.NumpyExactSearch", "--bench", r"nli\.NliQuality\.track_held_out"]
PLANT_OLD = "        scores = self.scores(query)[0]\n"
PLANT_NEW = "        for _ in range(3):  # planted slowdown\n            scores = self.scores(query)[0]\n"
ARTIFACTS = REPO / "test-artifacts"


@dataclass(frozen=True)
class PlantedHistory:
    root: Path
    env: dict[str, str]
    baseline: str
    slowed: str

    def asv(self, *args: str) -> subprocess.CompletedProcess:
        asv = Path(sys.executable).with_name("asv")
        return subprocess.run(
            [str(asv), *args], cwd=self.root, env=self.env, capture_output=True, text=True, timeout=900
        )


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def _copy_tracked_files(target: Path) -> None:
    for name in _git(REPO, "ls-files").splitlines():
        source = REPO / name
        if source.is_file() and not name.startswith("tests/"):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> PlantedHistory:
    root = tmp_path_factory.mktemp("planted")
    home = tmp_path_factory.mktemp("home")
    _copy_tracked_files(root)
    config = root / "asv.conf.json"
    # Share the environment `make bench` builds: creating one costs minutes, installing a wheel seconds.
    config.write_text(config.read_text().replace('"env_dir": ".asv/env"', f'"env_dir": "{REPO / ".asv" / "env"}"'))
    env = {
        **os.environ,
        "HOME": str(home),
        "PIP_CONSTRAINT": str(REPO / "constraints.txt"),
        "OMP_NUM_THREADS": "1",
        "VERACITY_CACHE_DIR": os.environ.get("VERACITY_CACHE_DIR", str(Path.home() / ".cache" / "veracity")),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    subprocess.run(["git", "commit", "-qm", "baseline"], cwd=root, check=True, env=env)
    baseline = _git(root, "rev-parse", "HEAD")
    store = root / "src" / "veracity" / "pipeline" / "store.py"
    text = store.read_text()
    assert text.count(PLANT_OLD) == 1, "the plant site moved; update PLANT_OLD"
    store.write_text(text.replace(PLANT_OLD, PLANT_NEW))
    subprocess.run(["git", "commit", "-qam", "slow down exact search"], cwd=root, check=True, env=env)
    slowed = _git(root, "rev-parse", "HEAD")

    # Build (or find) the default NLI model here: inside a benchmark its training would hit the timeout.
    from veracity.pipeline.nli_training import build_default_nli

    build_default_nli(Path(env["VERACITY_CACHE_DIR"]), show_progress=False)
    planted = PlantedHistory(root, env, baseline, slowed)
    machine = planted.asv("machine", "--yes", "--machine", "e2e")
    assert machine.returncode == 0, machine.stderr
    hashes = home / "commits.txt"
    hashes.write_text(f"{baseline}\n{slowed}\n")
    run = planted.asv("run", f"HASHFILE:{hashes}", "--machine", "e2e", "--show-stderr", *SELECTION)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # Two commits are too short a history for a band of this machine's own (issue 17): the blanket 5% this
    # test was built around, as a band calibrated here for every benchmark measured.
    from veracity.tracking.noise import NoiseBand, NoiseFile
    from veracity.tracking.results import ResultsStore

    noise = NoiseFile.load(root / "benchmarks" / "noise.json")
    measured = {r.key for r in ResultsStore(root / ".asv" / "results").results_for("e2e", baseline)}
    noise.update("e2e", baseline, [NoiseBand(key, 0.05, 2, 0.0, 0.0) for key in measured])
    noise.save()
    published = planted.asv("publish")
    assert published.returncode == 0, published.stderr[-3000:]
    return planted


def test_publish_lists_the_slowed_benchmark_and_no_other(history: PlantedHistory) -> None:
    rows = json.loads((history.root / "html" / "regressions.json").read_text())["regressions"]
    names = {row[0].split("(", 1)[0] for row in rows}
    assert names == {PLANTED}, names


def test_compare_reports_the_slowdown_only(history: PlantedHistory) -> None:
    result = history.asv("compare", history.baseline, history.slowed, "--machine", "e2e", "--only-changed")
    assert result.returncode == 0, result.stderr
    # asv 0.6 prints a Markdown table whose first cell is "+" for a slowdown.
    worse = [line for line in result.stdout.splitlines() if line.replace("|", " ").split()[:1] == ["+"]]
    assert worse, result.stdout
    assert all(PLANTED + "(" in line for line in worse), worse
    assert CONTROL not in result.stdout


def test_direction_aware_compare_calls_it_worse(history: PlantedHistory) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "veracity.cli", "compare", history.baseline, history.slowed, "--machine", "e2e"],
        cwd=history.root,
        env=history.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "NumpyExactSearch" in result.stdout


# --- the published site in a real browser -----------------------------------------------------------


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    pytest.fail("Chromium is not installed; .ci/run installs it (apt-get install chromium)")


@contextlib.contextmanager
def serve_directory(
    directory: Path, handler: type[SimpleHTTPRequestHandler] = SimpleHTTPRequestHandler
) -> Iterator[str]:
    """Serve `directory` over HTTP on a free local port for the browser; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


@pytest.fixture(scope="module")
def site_url(history: PlantedHistory) -> Iterator[str]:
    with serve_directory(history.root / "html") as url:
        yield url


def _render(url: str, tmp_path: Path, screenshot: Path | None = None) -> str:
    """The page's DOM after its scripts ran (and optionally a PNG of it), from headless Chromium."""
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium-profile'}",
        "--virtual-time-budget=15000",
        "--window-size=1400,1000",
    ]
    if screenshot is not None:
        flags.append(f"--screenshot={screenshot}")
    else:
        flags.append("--dump-dom")
    result = subprocess.run([_chromium(), *flags, url], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_regressions_page_lists_the_planted_regression(site_url: str, tmp_path: Path) -> None:
    dom = _render(site_url + "#regressions", tmp_path)
    assert "NumpyExactSearch" in dom
    assert "NliQuality" not in dom.split('id="regressions-display"', 1)[-1].split("</table>", 1)[0]
    ARTIFACTS.mkdir(exist_ok=True)
    _render(site_url + "#regressions", tmp_path, ARTIFACTS / "regressions-page.png")
    assert (ARTIFACTS / "regressions-page.png").stat().st_size > 10_000


def test_graph_of_the_planted_benchmark_renders(site_url: str, tmp_path: Path) -> None:
    dom = _render(site_url + "#" + PLANTED, tmp_path)
    assert "<canvas" in dom, "the flot graph did not draw"
    ARTIFACTS.mkdir(exist_ok=True)
    _render(site_url + "#" + PLANTED, tmp_path, ARTIFACTS / "planted-graph.png")
    assert (ARTIFACTS / "planted-graph.png").stat().st_size > 10_000
