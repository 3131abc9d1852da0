"""`veracity cloud run`: measure a commit range in parallel shards (Modal GPUs or local processes)."""

from __future__ import annotations

import argparse
from pathlib import Path

from veracity.cloud.orchestrate import BACKENDS, CloudRunOptions, run_cloud


def _cmd_run(args: argparse.Namespace) -> int:
    options = CloudRunOptions(
        commit_range=args.range,
        gpu=args.gpu,
        shards=args.shards,
        backend=args.backend,
        bench=tuple(args.bench or ()),
        quick=args.quick,
        config=Path(args.config),
    )
    return run_cloud(options)


def register(commands: argparse._SubParsersAction) -> None:
    """Add `cloud run` to the main `veracity` parser."""
    cloud = commands.add_parser("cloud", help="asv over many commits in parallel shards: Modal GPUs or local processes")
    sub = cloud.add_subparsers(dest="cloud_command", required=True, parser_class=type(cloud))
    run = sub.add_parser(
        "run",
        help="measure a commit range in shards and merge the results (exit 1 if some were left out)",
        description="Measure the commits of RANGE with asv in parallel shards, one asv machine per hardware "
        "type, and merge the results into the local asv results; commits already measured there are skipped.",
    )
    run.add_argument("range", help="commits to measure: A..B (first-parent history, A excluded) or one commit")
    run.add_argument("--gpu", help="GPU type as Modal names it (H100, A100-80GB, L4:2); required with --backend modal")
    run.add_argument("--shards", type=int, default=2, help="parallel containers or processes (default 2)")
    run.add_argument("--backend", choices=BACKENDS, default="modal", help="where shards run (default modal)")
    run.add_argument("--bench", action="append", help="only benchmarks matching this regex (repeatable)")
    run.add_argument("--quick", action="store_true", help="one sample per benchmark (asv --quick)")
    run.add_argument("--config", default="asv.conf.json", help="asv configuration (default ./asv.conf.json)")
    run.set_defaults(handler=_cmd_run)
