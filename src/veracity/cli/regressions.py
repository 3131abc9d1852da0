"""`veracity regressions`: open regressions of the latest commit (exit 1 if any is not accepted)."""

from __future__ import annotations

import argparse

from veracity.cli.parsing import (
    Commands,
    add_format_options,
    add_tracking_options,
    asv_config,
    emit,
    policy,
    report_format,
    tracking_files,
)


def run(args: argparse.Namespace) -> int:
    from veracity.tracking.commands import regressions_report

    report = regressions_report(
        asv_config(args),
        machine=args.machine,
        branch=args.branch,
        files=tracking_files(args),
        policy=policy(args),
        window=args.window,
        fmt=report_format(args),
    )
    emit(report.text, args.output)
    return report.exit_code


def register(commands: Commands) -> None:
    p = commands.add_parser("regressions", help="open regressions of the latest commit (exit 1 if any not accepted)")
    add_tracking_options(p)
    add_format_options(p)
    p.add_argument("--branch", help="branch whose history to follow (default: first in asv.conf.json)")
    p.add_argument("--window", type=int, default=5, help="commits before a regression used as baseline (default 5)")
    p.set_defaults(handler=run)
