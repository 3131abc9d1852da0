"""`veracity cloud run`: pick the commits not measured yet, shard them, run the shards, merge the results."""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from veracity.bench.database import shared_database
from veracity.cloud.gitbundle import create_bundle
from veracity.cloud.merge import MergeReport, merge_shards
from veracity.cloud.planning import machines_with_gpu, measured_commits, pending, resolve_range, split
from veracity.cloud.shard import ShardOutput, ShardRequest
from veracity.config import Settings, default_cache_dir
from veracity.errors import ConfigError, InputError
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import check_bench_patterns, register_machine
from veracity.tracking.gitrepo import rev_parse
from veracity.tracking.machine import Fingerprint, current, gpu_matches, record_machine

BACKENDS = ("modal", "local")
EXIT_OK, EXIT_LOST_RESULTS = 0, 1
_GPU_TYPE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*(:[1-9]\d*)?$")


@dataclass(frozen=True)
class CloudRunOptions:
    """What `veracity cloud run` was asked to do."""

    commit_range: str
    gpu: str | None = None
    shards: int = 2
    backend: str = "modal"
    bench: tuple[str, ...] = ()
    quick: bool = False
    config: Path = Path("asv.conf.json")


def _check_options(options: CloudRunOptions) -> None:
    if options.backend not in BACKENDS:
        raise InputError(f"--backend must be one of {', '.join(BACKENDS)}, not {options.backend!r}")
    if options.shards < 1:
        raise InputError("--shards must be at least 1")
    if options.gpu is not None and not _GPU_TYPE.match(options.gpu):
        raise InputError(f"--gpu {options.gpu!r} is not a GPU type; give one as Modal names it: H100, A100-80GB, L4:2")
    if options.backend == "modal" and not options.gpu:
        raise InputError("--backend modal needs --gpu (for example --gpu H100): one asv machine per GPU type")


def shard_workroot(config: AsvConfig) -> Path:
    """Where local shards keep their clones (and asv environments) between runs: in the cache, one
    folder per repository, never inside the repository where git or asv would see them."""
    key = hashlib.sha256(str(config.root).encode()).hexdigest()[:12]
    return default_cache_dir() / "cloud-shards" / f"{config.root.name}-{key}"


def _check_modal_reachable() -> None:
    from veracity.cloud.credentials import require_credentials, require_network

    require_credentials()
    require_network()


def run_cloud(options: CloudRunOptions) -> int:
    """The whole command. Exit 0 when every shard's results were merged, 1 when some were left out.

    A commit counts as measured when the local backend's machine (this fingerprint) has results for
    it, or, on Modal, when any machine whose record names a GPU of the requested type has: the
    containers' CPUs are only known once they run.

    On an interrupt (KeyboardInterrupt, SIGTERM included) the shards are stopped with their asv
    process groups, then the embedded PostgreSQL and the staging folder go; the local results keep
    what they had (a merge under way adds whole files only), so a re-run measures what is missing.
    """
    _check_options(options)
    if options.backend == "modal":
        _check_modal_reachable()  # before any work: no bundle, no machine record, no container
    config = AsvConfig.load(options.config)
    check_bench_patterns(options.bench, config.results_dir / "benchmarks.json")
    commits = resolve_range(config.repo, options.commit_range)
    head = rev_parse(config.repo, "HEAD")
    if head is None or not config.path.is_relative_to(config.repo):
        raise ConfigError(f"{config.path} must sit inside the git repository it benchmarks ({config.repo})")
    fingerprint = current() if options.backend == "local" else None
    machine = _register_here(config, fingerprint, options.gpu) if fingerprint else None
    machines = [machine] if machine else machines_with_gpu(config.results_dir, str(options.gpu))
    todo = pending(commits, measured_commits(config.results_dir, machines))
    if len(todo) < len(commits):
        skipped, where = len(commits) - len(todo), ", ".join(machines)
        print(f"veracity: {skipped} of {len(commits)} commit(s) already measured on {where}; skipping them", flush=True)
    if not todo:
        print("veracity: nothing to run", flush=True)
        return EXIT_OK
    requests = [
        ShardRequest(
            index=shard.index,
            commits=shard.commits,
            head=head,
            config=config.path.relative_to(config.repo).as_posix(),
            bench=options.bench,
            quick=options.quick,
            machine=machine,
        )
        for shard in split(todo, options.shards)
    ]
    where = f"machine {machine}" if machine else f"Modal {options.gpu}"
    print(f"veracity: measuring {len(todo)} commit(s) in {len(requests)} shard(s) on {where}", flush=True)
    with tempfile.TemporaryDirectory(prefix="veracity-cloud-") as tmp:
        staging = Path(tmp)
        bundle = create_bundle(config.repo, staging / "repo.bundle")
        if fingerprint is not None:
            folders = _run_here(config, bundle, requests, staging, fingerprint)
        else:
            folders = _run_on_modal(str(options.gpu), bundle, requests, staging)
        report = merge_shards(folders, config.results_dir)
    _print_report(report, config.results_dir)
    return EXIT_OK if report.ok else EXIT_LOST_RESULTS


def _register_here(config: AsvConfig, fingerprint: Fingerprint, gpu: str | None) -> str:
    """This machine's asv record, GPU fields included; refuse a --gpu it does not have."""
    if gpu and not gpu_matches(gpu, fingerprint.gpu_model, fingerprint.gpus):
        have = fingerprint.gpu_model or "no NVIDIA GPU"
        raise ConfigError(f"--gpu {gpu} asks for hardware this machine lacks ({have}); use --backend modal")
    machine = register_machine(config, fingerprint)
    record_machine(fingerprint)
    return machine


def _run_here(
    config: AsvConfig, bundle: Path, requests: Sequence[ShardRequest], staging: Path, fingerprint: Fingerprint
) -> list[Path]:
    from veracity.cloud.local_runner import run_local_shards

    # One database server for all shards, as `make bench` does; benchmark processes cannot stop one.
    with shared_database(Settings.from_env()) as db_env:
        return run_local_shards(bundle, requests, shard_workroot(config), staging, fingerprint, db_env)


def _run_on_modal(gpu: str, bundle: Path, requests: Sequence[ShardRequest], staging: Path) -> list[Path]:
    from veracity.cloud.modal_app import run_shards_in_cloud

    outputs = run_shards_in_cloud(gpu, bundle.read_bytes(), [r.to_json() for r in requests])
    folders = []
    for request, output in zip(requests, outputs, strict=True):
        folder = staging / f"shard-{request.index}"
        if isinstance(output, BaseException):
            print(f"veracity: shard {request.index} failed on Modal: {output}", flush=True)
        else:
            ShardOutput.write_json(output, folder)
        folders.append(folder)
    return folders


def _print_report(report: MergeReport, results_dir: Path) -> None:
    for note in report.notes:
        print(f"veracity: note: {note}", flush=True)
    for problem in report.problems:
        print(f"veracity: warning: {problem}", flush=True)
    print(
        f"veracity: merged {len(report.written)} result file(s) into {results_dir}; "
        "`asv publish` shows them in one history",
        flush=True,
    )
