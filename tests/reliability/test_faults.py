"""Faults lose nothing: a database that goes away, bad model folders, unwritable folders and a full disk.

The database is really stopped (pg_ctl, fast shutdown) in the middle of a run, on an embedded
PostgreSQL of the test's own; model folders are real folders with real damage; the unwritable
folder is a real one the kernel refuses (root ignores permission bits, so /sys serves as root).
Only the full disk is simulated: writes raise OSError(ENOSPC) part way through a file.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_helpers import (
    assert_one_line_error,
    postgres_processes,
    private_cache,
    results_of,
    snapshot,
    start_veracity,
    venv_toy,
    veracity,
    wait_for,
)
from toy_suite import ToyRepo

from veracity.cli import main
from veracity.data import load_claims
from veracity.errors import DataDirError
from veracity.pipeline.journal import Journal

FAULTINJECT = Path(__file__).resolve().parent / "faultinject"

DB_SUITE = '''
"""Vector search through veracity's PgVectorStore; a handshake lets the test stop the server mid-run."""
import os
import time
from pathlib import Path

import numpy as np

from veracity.pipeline.pgvector_store import PgVectorStore
from veracity.pipeline.store import IndexSpec

HANDSHAKE = os.environ.get("TOY_HANDSHAKE_DIR")


def _pause_once_for_the_test():
    if not HANDSHAKE:
        return
    started = Path(HANDSHAKE) / "started"
    if started.exists():
        return
    started.write_text(str(os.getpid()))
    deadline = time.time() + 120
    while not (Path(HANDSHAKE) / "go").exists() and time.time() < deadline:
        time.sleep(0.05)


class VectorSearch:
    params = [["exact", "hnsw"]]
    param_names = ["index"]
    rounds = 1
    repeat = 3
    number = 1
    warmup_time = 0
    timeout = 180

    def setup(self, index):
        self.vectors = np.random.default_rng(0).standard_normal((300, 16)).astype("float32")
        self.store = PgVectorStore(os.environ["VERACITY_DATABASE_URL"], 16, IndexSpec(kind=index))
        self.store.load(np.arange(300), self.vectors)
        _pause_once_for_the_test()

    def teardown(self, index):
        self.store.close()

    def time_query(self, index):
        self.store.search(self.vectors[0], 5)

    def track_top_hit_is_itself(self, index):
        return float(self.store.search(self.vectors[7], 1)[0].id == 7)
'''


def stop_server(cache: Path) -> None:
    from veracity.db.server import stop_embedded

    assert stop_embedded(cache), "the embedded server was not running"


def bench_args(repo: ToyRepo, cache: Path, *extra: str) -> list[str]:
    return ["bench", "--commits", "1", "--config", str(repo.config), "--cache-dir", str(cache), *extra]


@pytest.fixture(scope="module")
def db_toy(isolated_home: Path, tmp_path_factory: pytest.TempPathFactory) -> ToyRepo:
    repo = venv_toy(tmp_path_factory.mktemp("db-toy") / "toy", {"db.py": DB_SUITE})
    repo.commit("base")
    return repo


@pytest.fixture(scope="module")
def bench_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = private_cache(tmp_path_factory.mktemp("cache"))
    yield cache
    assert postgres_processes(cache / "pgdata") == [], "an embedded PostgreSQL was left running"


# --- the database goes away ------------------------------------------------------------------------


@pytest.mark.asv
@pytest.mark.db
@pytest.mark.slow
def test_database_stopped_mid_vector_search_fails_those_benchmarks_and_keeps_the_rest(
    db_toy: ToyRepo, bench_cache: Path, tmp_path: Path
) -> None:
    handshake = tmp_path / "handshake"
    handshake.mkdir()
    process = start_veracity(
        *bench_args(db_toy, bench_cache, "--no-publish"), cwd=db_toy.root, env={"TOY_HANDSHAKE_DIR": str(handshake)}
    )
    wait_for(lambda: (handshake / "started").exists(), 240, "the first vector-search benchmark", process)
    stop_server(bench_cache)  # in the middle of the benchmark: its table is loaded, its queries not yet run
    (handshake / "go").write_text("")
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, out[-3000:] + err[-3000:]
    assert "Traceback" not in err.split("veracity:", 1)[-1]
    values = results_of(db_toy)
    commit = db_toy.commits["base"][:8]
    db_values = [v for k, v in values.items() if k.startswith(f"{commit}:db.")]
    kept = {k: v for k, v in values.items() if k.startswith(f"{commit}:bench.")}
    assert db_values and all(v is None or None in v for v in db_values), values
    # every bench.* result of the toy suite: the six of Suite (the machine yardstick among them) and Params.time_sized
    assert len(kept) == 7 and all(v is not None and None not in v for v in kept.values()), values
    report = [line for line in out.splitlines() if "benchmark(s) failed at" in line]
    assert report and "db.VectorSearch.time_query('exact')" in report[0] and "bench." not in report[0], out[-2000:]
    assert postgres_processes(bench_cache / "pgdata") == []


@pytest.mark.db
@pytest.mark.models
@pytest.mark.slow
def test_database_stopped_mid_verify_keeps_finished_verdicts_and_the_rerun_resumes(tmp_path: Path) -> None:
    cache = private_cache(tmp_path / "cache")
    claims = load_claims()[:10]
    claims_file = tmp_path / "claims.jsonl"
    claims_file.write_text("".join(json.dumps({"id": c.id, "claim": c.claim}) + "\n" for c in claims))
    output = tmp_path / "verdicts.jsonl"
    partial = tmp_path / "verdicts.jsonl.partial"
    args = ["verify", "--file", str(claims_file), "--output", str(output), "--cache-dir", str(cache)]
    process = start_veracity(*args)
    wait_for(lambda: partial.is_file() and partial.read_text().count("\n") >= 3, 240, "two verdicts", process)
    stop_server(cache)
    _, err = process.communicate(timeout=120)
    line = assert_one_line_error(process.returncode, err, "lost the database", "re-run the same command")
    kept = int(line.split(" of 10 verdicts are kept")[0].rsplit(" ", 1)[-1])
    assert 2 <= kept < 10 and not output.exists()
    assert postgres_processes(cache / "pgdata") == []

    rerun = veracity(*args, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert f"resuming: {kept} of 10" in rerun.stderr
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert [r["id"] for r in rows] == [c.id for c in claims]
    assert not partial.exists()
    assert postgres_processes(cache / "pgdata") == []


# --- model folders ---------------------------------------------------------------------------------


def _damaged_models(root: Path) -> dict[str, Path]:
    """Real folders, each broken in one way: empty, a file, bad config, truncated weights, unreadable."""
    from veracity.pipeline.models import shipped_minilm_path

    shipped = shipped_minilm_path()

    def copy(name: str) -> Path:
        target = root / name
        shutil.copytree(shipped, target, ignore=shutil.ignore_patterns("model.safetensors"))
        os.symlink(shipped / "model.safetensors", target / "model.safetensors")
        return target

    cases = {"empty folder": root / "empty", "a plain file": root / "file"}
    cases["empty folder"].mkdir(parents=True)
    cases["a plain file"].write_text("not a model\n")
    bad_config = copy("bad-config")
    (bad_config / "config.json").write_text('{"model_type": "bert", "hidden_size": ')
    truncated = copy("truncated-weights")
    (truncated / "model.safetensors").unlink()
    (truncated / "model.safetensors").write_bytes((shipped / "model.safetensors").read_bytes()[:4096])
    cases |= {"corrupt config.json": bad_config, "truncated weights": truncated}
    if os.geteuid() != 0:  # root reads through permission bits; the damaged folders above cover it
        locked = copy("unreadable")
        locked.chmod(0)
        cases["unreadable folder"] = locked
    return cases


@pytest.mark.models
@pytest.mark.slow
def test_damaged_model_folders_are_one_line_errors(tmp_path: Path, capsys) -> None:
    cases = _damaged_models(tmp_path / "models")
    tried = 0
    for option in ("--embedding-model", "--nli-model"):
        for path in cases.values():
            argv = ["verify", "a claim", "--store", "numpy", option, str(path), "--cache-dir", str(tmp_path / "c")]
            code = main(argv)
            _, err = capsys.readouterr()
            line = assert_one_line_error(code, err, str(path))
            assert "give" in line or "copy it again" in line, line
            tried += 1
    assert tried >= 8
    assert not (tmp_path / "c" / "embeddings").exists() or not list((tmp_path / "c" / "embeddings").iterdir())


# --- folders that cannot be written ----------------------------------------------------------------


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Iterator[Path]:
    """A real folder the kernel refuses to write into, for root too."""
    if os.geteuid() != 0:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        yield locked
        locked.chmod(0o700)
        return
    sysfs = Path("/sys/kernel")
    if not sysfs.is_dir() or _can_create(sysfs):
        pytest.skip("no folder here refuses root; test_unwritable_cache_dir_is_reported covers the path")
    yield sysfs


def _can_create(folder: Path) -> bool:
    try:
        (folder / ".veracity-probe").mkdir()
    except OSError:
        return False
    (folder / ".veracity-probe").rmdir()
    return True


def test_cache_dir_without_write_permission_is_reported(unwritable_dir: Path, capsys) -> None:
    for cache in (unwritable_dir, unwritable_dir / "veracity-cache"):
        code = main(["verify", "a claim", "--store", "numpy", "--cache-dir", str(cache)])
        assert_one_line_error(code, capsys.readouterr().err, "not writable", "VERACITY_CACHE_DIR")


def test_output_folder_without_write_permission_is_reported_before_any_work(
    unwritable_dir: Path, tmp_path: Path, capsys
) -> None:
    claims = tmp_path / "claims.jsonl"
    claims.write_text('{"claim": "Paris is in France."}\n')
    code = main(["verify", "--file", str(claims), "--output", str(unwritable_dir / "out.jsonl")])
    assert_one_line_error(code, capsys.readouterr().err, "output directory", "not writable")


def test_report_to_a_folder_without_write_permission_is_reported(unwritable_dir: Path, tmp_path: Path) -> None:
    from asv_samples import make_results_dir

    (tmp_path / "asv.conf.json").write_text('{"results_dir": "results"}')
    make_results_dir(tmp_path / "results")
    for command in ("regressions", "targets"):
        done = veracity(command, "--config", str(tmp_path / "asv.conf.json"), "-o", str(unwritable_dir / "r.md"))
        assert_one_line_error(done.returncode, done.stderr, "cannot write", "r.md")


# --- a full disk (simulated) -----------------------------------------------------------------------


class _FillingFile:
    """A file on a disk with `room` bytes left: writes past it raise ENOSPC, as a full disk does."""

    def __init__(self, handle, room: int) -> None:
        self._handle = handle
        self._room = room

    def write(self, data):
        if len(data) > self._room:
            self._handle.write(data[: self._room])
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._handle.write(data)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._handle.__exit__(*exc)


def fill_disk_after(monkeypatch: pytest.MonkeyPatch, room: int) -> None:
    """Every file opened through os.fdopen (the atomic writer) or Path.open gets `room` bytes, then ENOSPC."""
    real_fdopen, real_open = os.fdopen, Path.open
    monkeypatch.setattr(os, "fdopen", lambda *a, **k: _FillingFile(real_fdopen(*a, **k), room))
    monkeypatch.setattr(Path, "open", lambda self, *a, **k: _FillingFile(real_open(self, *a, **k), room))


@pytest.mark.parametrize("room", [0, 1, 10])
@pytest.mark.parametrize("command", ["regressions", "targets", "compare"])
def test_full_disk_while_writing_a_report_keeps_the_previous_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, command: str, room: int
) -> None:
    from asv_samples import COMMIT, make_results_dir

    (tmp_path / "asv.conf.json").write_text('{"results_dir": "results"}')
    make_results_dir(tmp_path / "results")
    report = tmp_path / "out" / "report.md"
    report.parent.mkdir()
    report.write_text("the previous report\n")
    argv = [command, "--config", str(tmp_path / "asv.conf.json"), "--output", str(report)]
    if command == "compare":
        argv[1:1] = [COMMIT, COMMIT]
    fill_disk_after(monkeypatch, room)
    code = main(argv)
    assert_one_line_error(code, capsys.readouterr().err, "No space left on device", "report.md")
    assert report.read_text() == "the previous report\n"
    assert [p.name for p in report.parent.iterdir()] == ["report.md"]


def test_full_disk_while_keeping_verdicts_loses_only_the_row_being_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "verdicts.jsonl"
    with Journal(output, "k") as journal:
        journal.append('{"id": "1"}')
        journal.append('{"id": "2"}')
    with pytest.MonkeyPatch.context() as mp:
        fill_disk_after(mp, 5)
        with Journal(output, "k") as journal, pytest.raises(DataDirError, match="No space left"):
            journal.append('{"id": "3", "verdict": "supported"}')
    again = Journal(output, "k")
    assert again.rows == ['{"id": "1"}', '{"id": "2"}']
    again.append('{"id": "3"}')
    again.commit()
    assert output.read_text().splitlines() == ['{"id": "1"}', '{"id": "2"}', '{"id": "3"}']
    assert not again.path.exists()


@pytest.mark.asv
@pytest.mark.db
@pytest.mark.slow
def test_full_disk_while_asv_writes_results_keeps_the_previous_ones(db_toy: ToyRepo, bench_cache: Path) -> None:
    results = db_toy.root / ".asv" / "results"
    if not list(results.glob("*/*-virtualenv-*.json")):
        first = veracity(*bench_args(db_toy, bench_cache, "--no-publish"), cwd=db_toy.root, timeout=400)
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    new = db_toy.commit("after-base")
    before = snapshot(results)
    env = {
        "PYTHONPATH": str(FAULTINJECT),
        "VERACITY_FAULT": "enospc",
        "VERACITY_FAULT_PATHS": f"*/.asv/results/*/{new[:8]}-*.json",
    }
    done = veracity(*bench_args(db_toy, bench_cache, "--no-publish"), cwd=db_toy.root, env=env, timeout=400)
    assert done.returncode == 2, done.stdout[-3000:] + done.stderr[-3000:]
    assert done.stderr.strip().splitlines()[-1].startswith("veracity: error: `asv run"), done.stderr[-2000:]
    after = snapshot(results)
    # asv rewrites benchmarks.json on every run (same content); every other file must be as it was.
    assert {k: v for k, v in after.items() if k != "benchmarks.json"} == {
        k: v for k, v in before.items() if k != "benchmarks.json"
    }, "a previous result file changed, or a partial one of the new commit was left"
    assert json.loads(after["benchmarks.json"])
    assert postgres_processes(bench_cache / "pgdata") == []

    rerun = veracity(*bench_args(db_toy, bench_cache, "--no-publish"), cwd=db_toy.root, timeout=400)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert [k for k in snapshot(results) if new[:8] in k], "the re-run did not measure the new commit"
