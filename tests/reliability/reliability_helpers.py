"""What the reliability tests share: running `veracity` for real, one-line errors, snapshots, toy projects."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import sysconfig
import time
from collections.abc import Callable
from pathlib import Path

from toy_suite import ToyRepo

REPO_ROOT = Path(__file__).resolve().parents[2]
SRC = REPO_ROOT / "src"
SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
REAL_CACHE = Path(os.environ.get("VERACITY_CACHE_DIR", Path.home() / ".cache" / "veracity")).expanduser()


def veracity(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    """Run the real `veracity` command line in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "veracity.cli", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_veracity(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start `veracity` in the background, its output captured, to signal it mid-run.

    SIGINT is reset to its default in the child, as at a terminal: a shell starts a background
    job (`pytest ... &`, `nohup ... &`) with SIGINT ignored, Python then installs no
    KeyboardInterrupt handler, and a SIGINT test would hang instead of testing anything.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "veracity.cli", *args],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def assert_one_line_error(code: int, stderr: str, *fragments: str) -> str:
    """Exit code 2 and exactly one line on stderr, starting `veracity: error:`, holding every fragment."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert code == 2, f"exit {code}: {stderr[-2000:]}"
    assert "Traceback" not in stderr, stderr
    assert len(lines) == 1 and lines[0].startswith("veracity: error: "), stderr[-2000:]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative path -> bytes): compare before and after to prove nothing was lost."""
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def wait_for(condition: Callable[[], bool], timeout: float, what: str, process: subprocess.Popen | None = None) -> None:
    """Poll `condition` until true; fail with `what` (and the process's output if it ended) on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if process is not None and process.poll() is not None:
            out, err = process.communicate()
            ended = f"process ended (exit {process.returncode}) before {what}"
            raise AssertionError(f"{ended}:\n{out[-3000:]}\n{err[-3000:]}")
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def interrupt(process: subprocess.Popen, sig: signal.Signals, timeout: float = 90) -> tuple[int, str, str]:
    """Send `sig` to the process and collect its exit code and output."""
    process.send_signal(sig)
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def postgres_processes(datadir: Path) -> list[str]:
    """Command lines of PostgreSQL servers running on `datadir` (pgrep), empty when none is left."""
    done = subprocess.run(["pgrep", "-af", f"postgres -D {datadir}"], capture_output=True, text=True)
    return [line for line in done.stdout.splitlines() if "pgrep" not in line]


def private_cache(root: Path) -> Path:
    """A cache folder of its own (its own embedded PostgreSQL), sharing the built models and embeddings."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("models", "embeddings"):
        if (REAL_CACHE / name).is_dir() and not (root / name).exists():
            (root / name).symlink_to(REAL_CACHE / name)
    return root


def venv_toy(root: Path, extra_benchmarks: dict[str, str] | None = None) -> ToyRepo:
    """The toy asv suite in a virtualenv environment (what `veracity bench` measures), plus extra modules.

    Extra modules can import veracity, numpy and psycopg: the paths of this checkout are put on
    sys.path by the module itself, because asv removes PYTHONPATH from benchmark processes.
    """
    repo = ToyRepo(root, env_type="virtualenv")
    for name, text in (extra_benchmarks or {}).items():
        prelude = f"import sys\nsys.path[:0] = [{str(SRC)!r}, {str(SITE_PACKAGES)!r}]\n"
        (root / "benchmarks" / name).write_text(prelude + text)
    return repo


def results_of(repo: ToyRepo) -> dict[str, object]:
    """Benchmark key -> value of every result file of the toy repo (None for a failed one)."""
    out: dict[str, object] = {}
    for path in (repo.root / ".asv" / "results").glob("*/*.json"):
        if path.name in ("machine.json", "benchmarks.json"):
            continue
        data = json.loads(path.read_text())
        for name, row in data["results"].items():
            out[f"{data['commit_hash'][:8]}:{name}"] = row[0]
    return out


# --- a hostile project: planted secrets, script in commit messages, branch, tag and parameters -----------

PAYLOAD_JS = "document.body.dataset.pwned=42"
HOSTILE_MESSAGE = f'Speed up <script>{PAYLOAD_JS}</script><img src=x onerror="{PAYLOAD_JS}">'
HOSTILE_BRANCH = f"rel<svg/onload={PAYLOAD_JS}>"
HOSTILE_TAG = f"v1<svg/onload={PAYLOAD_JS}>"
HOSTILE_PARAMS = [f'<img src=x onerror="{PAYLOAD_JS}">', f"<script>{PAYLOAD_JS}</script>"]
SECRETS = {
    "db-password": "S3cr3tDbPl4nt",
    "MODAL_TOKEN_ID": "ak-Pl4ntedModalTokenId",
    "MODAL_TOKEN_SECRET": "as-Pl4ntedModalTokenS3cret",
    "AWS_SECRET_ACCESS_KEY": "Pl4ntedAwsS3cretAccessKey",
    "GITHUB_TOKEN": "ghp_Pl4ntedGithubToken",
    "HF_TOKEN": "hf_Pl4ntedHuggingFaceToken",
}

HOSTILE_SUITE = f'''
"""Benchmarks whose parameters are markup, and one that talks to the database through the planted DSN."""
import os

import numpy as np

from veracity.pipeline.pgvector_store import PgVectorStore
from veracity.pipeline.store import IndexSpec

try:
    import toy
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import toy


class Hostile:
    params = [{HOSTILE_PARAMS!r}]
    param_names = ["<i>payload</i>"]
    unit = "items/s (higher is better)"

    def track_items(self, payload):
        return 100.0 * toy.PLANT.get("throughput", 1.0)


class Database:
    def setup(self):
        self.store = PgVectorStore(os.environ["VERACITY_DATABASE_URL"], 4, IndexSpec(kind="exact"))
        self.store.load(np.arange(10), np.eye(10, 4, dtype="float32"))

    def teardown(self):
        self.store.close()

    def track_search_hits(self):
        return float(len(self.store.search(np.ones(4, dtype="float32"), 3)))
'''


HOSTILE_TARGETS = f"""
[[target]]
title = "<img src=x onerror={PAYLOAD_JS}>"
benchmark = "hostile.Hostile.track_items*"
op = ">"
limit = 90
unit = "items/s <script>{PAYLOAD_JS}</script>"
"""


def hostile_commit(repo: ToyRepo, message: str, tag: str | None = None, **plant: float) -> str:
    """A commit with any message (the toy repo's own uses its label), optionally tagged."""
    (repo.root / "toy" / "__init__.py").write_text(f"PLANT = {plant!r}\n")
    (repo.root / "LABEL").write_text(message[:20] + "\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", message)
    if tag:
        repo.git("tag", tag)
    return repo.git("rev-parse", "HEAD").strip()
