"""`veracity targets`: the product targets (benchmarks/targets.toml) on the latest commit."""

from __future__ import annotations

import argparse
from pathlib import Path

from veracity.cli.parsing import Commands, add_format_options, add_tracking_options, asv_config, emit, report_format


def run(args: argparse.Namespace) -> int:
    from veracity.tracking.commands import targets_report

    report = targets_report(
        asv_config(args),
        machine=args.machine,
        targets_file=Path(args.targets_file) if args.targets_file else None,
        fmt=report_format(args),
        check=args.check,
    )
    emit(report.text, args.output)
    return report.exit_code


def register(commands: Commands) -> None:
    p = commands.add_parser("targets", help="the product targets: met, close or missed on the latest commit")
    add_tracking_options(p, noise=False, triage=False)
    add_format_options(p)
    p.add_argument("--targets-file", help="targets (default <benchmark_dir>/targets.toml, else the seed targets)")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    p.set_defaults(handler=run)
