"""`veracity bisect GOOD BAD -b PATTERN`: the first commit at which a benchmark got worse."""

from __future__ import annotations

import argparse

from veracity.cli.parsing import (
    RUN_MACHINE_HELP,
    Commands,
    add_format_options,
    add_rerun_option,
    add_tracking_options,
    asv_config,
    emit,
    policy,
    report_format,
    tracking_files,
)
from veracity.tracking.continuous import DEFAULT_ROUNDS


def run_bisect(args: argparse.Namespace) -> int:
    from veracity.bisect.command import BisectRequest, bisect_report

    request = BisectRequest(
        good=args.good,
        bad=args.bad,
        bench=tuple(args.bench or ()),
        machine=args.machine,
        files=tracking_files(args),
        policy=policy(args),
        rerun=args.rerun,
        rounds=args.rounds,
        fmt=report_format(args),
        quiet_asv=not args.show_asv,
    )
    report = bisect_report(asv_config(args), request)
    emit(report.text, args.output)
    return report.exit_code


def register(commands: Commands) -> None:
    p = commands.add_parser(
        "bisect",
        help="the first commit at which a benchmark got worse, by paired noise-aware probes "
        "(exit 0 found, 1 none worse, 3 several suspects after skips)",
    )
    p.add_argument("good", help="a commit where the benchmark was fine")
    p.add_argument("bad", help="a later commit on the same branch where it is worse")
    p.add_argument("--bench", "-b", action="append", help="regex of the benchmark(s) to bisect (repeatable)")
    add_tracking_options(p, triage=False, machine_help=RUN_MACHINE_HELP)
    add_format_options(p)
    add_rerun_option(p)
    p.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"interleaved rounds of each probe, as veracity continuous (default {DEFAULT_ROUNDS}, at least 2)",
    )
    p.add_argument("--show-asv", action="store_true", help="show asv's own output while probing")
    p.set_defaults(handler=run_bisect)
