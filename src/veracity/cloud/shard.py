"""The body of one shard: check the commits out of a bundle, run asv on them, collect the result files.

The same code runs in a Modal container and in a local process (`python -m veracity.cloud.shard`),
so what the local backend proves holds for the cloud one. A shard never raises for one bad commit
or a failed asv run: it returns the files it has and says what went wrong, so the merge keeps the
good results.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import FrameType

from veracity.cloud.gitbundle import checkout, checkout_commit, has_commit
from veracity.errors import VeracityError
from veracity.fsutil import atomic_write_text
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import RunOptions, register_machine, run_benchmarks
from veracity.tracking.machine import current, record_machine

MANIFEST = "shard.json"
OUTPUT_FORMAT = 1


@dataclass(frozen=True)
class ShardRequest:
    """What one shard is asked to do; plain JSON types, because it crosses into Modal and processes."""

    index: int
    commits: tuple[str, ...]
    head: str
    config: str = "asv.conf.json"
    bench: tuple[str, ...] = ()
    quick: bool = False
    machine: str | None = None

    def to_json(self) -> dict:
        return {
            "index": self.index,
            "commits": list(self.commits),
            "head": self.head,
            "config": self.config,
            "bench": list(self.bench),
            "quick": self.quick,
            "machine": self.machine,
        }

    @classmethod
    def from_json(cls, data: Mapping) -> ShardRequest:
        return cls(
            index=int(data["index"]),
            commits=tuple(data["commits"]),
            head=str(data["head"]),
            config=str(data.get("config", "asv.conf.json")),
            bench=tuple(data.get("bench", ())),
            quick=bool(data.get("quick", False)),
            machine=data.get("machine"),
        )


@dataclass(frozen=True)
class ShardOutput:
    """What a shard hands back: its result files (paths relative to the results dir) and a manifest."""

    index: int
    machine: str
    asv_version: str
    commits: tuple[str, ...]
    seconds: float
    files: dict[str, str] = field(default_factory=dict)
    errors: tuple[str, ...] = ()
    fingerprint: dict = field(default_factory=dict)

    def manifest(self) -> dict:
        return {
            "format": OUTPUT_FORMAT,
            "index": self.index,
            "machine": self.machine,
            "asv_version": self.asv_version,
            "commits": list(self.commits),
            "seconds": round(self.seconds, 1),
            "errors": list(self.errors),
            "fingerprint": self.fingerprint,
        }

    def to_json(self) -> dict:
        return {"manifest": self.manifest(), "files": dict(self.files)}

    @staticmethod
    def write_json(data: Mapping, folder: Path) -> Path:
        """Lay a shard's output (as `to_json` made it) out as a results folder plus shard.json."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in dict(data.get("files") or {}).items():
            relative = PurePosixPath(name)
            if relative.is_absolute() or ".." in relative.parts or not relative.parts:
                raise VeracityError(f"shard output names an unsafe path {name!r}; refusing it")
            atomic_write_text(folder.joinpath(*relative.parts), str(text))
        atomic_write_text(folder / MANIFEST, json.dumps(data.get("manifest") or {}, indent=2) + "\n")
        return folder

    def write(self, folder: Path) -> Path:
        return self.write_json(self.to_json(), folder)


def asv_version() -> str:
    try:
        return importlib.metadata.version("asv")
    except importlib.metadata.PackageNotFoundError:
        return ""


def _collect(results_dir: Path, machine: str) -> dict[str, str]:
    files: dict[str, str] = {}
    candidates = [results_dir / "benchmarks.json", *sorted((results_dir / machine).glob("*.json"))]
    for path in candidates:
        if path.is_file() and not path.name.startswith("."):
            files[path.relative_to(results_dir).as_posix()] = path.read_text(encoding="utf-8")
    return files


def run_shard(bundle: Path, workdir: Path, request: ShardRequest, env: Mapping[str, str] | None = None) -> ShardOutput:
    """Measure `request.commits` in a clone under `workdir`; asv failures are reported, not raised."""
    started = time.monotonic()
    clone = checkout(bundle, workdir / "repo", request.head)
    config = AsvConfig.load(clone / request.config)
    fingerprint = current()
    machine = request.machine
    if machine is None:  # a container registers itself: its hardware is only known here
        machine = register_machine(config, fingerprint)
        record_machine(fingerprint)
    # The clone is ours: results start empty, so everything collected below was measured now.
    if config.results_dir.is_relative_to(clone):
        shutil.rmtree(config.results_dir, ignore_errors=True)
    commits: list[str] = []
    errors: list[str] = []
    for commit in request.commits:
        if has_commit(clone, commit):
            commits.append(commit)
        else:
            errors.append(f"commit {commit[:8]} is not in the bundle (not reachable from HEAD, a branch or a tag)")
    options = RunOptions(bench=request.bench, machine=machine, quick=request.quick)
    for group in _runs(config, commits):
        names = ", ".join(c[:8] for c in group)
        try:
            if config.uses_existing_env:  # asv measures the working tree: put the commit there
                checkout_commit(clone, group[0])
            run_benchmarks(config, group, options, env=env, quiet=True)
        except VeracityError as exc:
            errors.append(f"asv failed for {names}: {exc}")
        else:
            print(f"veracity: shard {request.index}: measured {names}", flush=True)
    return ShardOutput(
        index=request.index,
        machine=machine,
        asv_version=asv_version(),
        commits=tuple(commits),
        seconds=time.monotonic() - started,
        files=_collect(config.results_dir, machine),
        errors=tuple(errors),
        fingerprint=fingerprint.to_json(),
    )


def _runs(config: AsvConfig, commits: Sequence[str]) -> list[list[str]]:
    """One asv run for all commits, or one per commit where the environment is `existing`."""
    if not commits:
        return []
    return [[c] for c in commits] if config.uses_existing_env else [list(commits)]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m veracity.cloud.shard`: one local shard, its output written to --out.

    The run stops it with SIGINT (or SIGTERM), whatever this process inherited for them: its asv
    is then stopped as a whole process group and asv's half-written results in the clone mended.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(prog="python -m veracity.cloud.shard", description=__doc__)
    parser.add_argument("--bundle", required=True, type=Path)
    parser.add_argument("--workdir", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--request", required=True, help="the ShardRequest as JSON")
    args = parser.parse_args(argv)
    request = ShardRequest.from_json(json.loads(args.request))
    try:
        # The local backend starts shards with both signals held back (so none is orphaned between
        # its start and its bookkeeping); the mask is inherited, so let them through now.
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
        output = run_shard(args.bundle, args.workdir, request)
        output.write(args.out)
    except VeracityError as exc:
        print(f"veracity: shard {request.index}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"veracity: shard {request.index}: interrupted; its asv was stopped", file=sys.stderr)
        return 130
    for error in output.errors:
        print(f"veracity: shard {request.index}: {error}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
