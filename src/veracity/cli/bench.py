"""`veracity bench` (make bench): asv over the last N commits, publish html/, report regressions."""

from __future__ import annotations

import argparse
from pathlib import Path

from veracity.cli.parsing import Commands, add_cache_dir, settings


def run(args: argparse.Namespace) -> int:
    from veracity.bench.job import BenchOptions, run_bench

    options = BenchOptions(
        commits=args.commits,
        quick=args.quick,
        bench=tuple(args.bench or ()),
        config=Path(args.config),
        publish=not args.no_publish,
    )
    return run_bench(options, settings(args))


def register(commands: Commands) -> None:
    bench = commands.add_parser("bench", help="the main job: asv over the last N commits, publish, report")
    bench.add_argument("--commits", type=int, default=5, help="how many recent commits to measure (default 5)")
    bench.add_argument("--quick", action="store_true", help="one sample per benchmark (asv --quick)")
    bench.add_argument("--bench", action="append", help="only benchmarks matching this regex (repeatable)")
    bench.add_argument("--config", default="asv.conf.json", help="asv configuration (default ./asv.conf.json)")
    bench.add_argument("--no-publish", action="store_true", help="measure only; skip asv publish")
    add_cache_dir(bench)
    bench.set_defaults(handler=run)
