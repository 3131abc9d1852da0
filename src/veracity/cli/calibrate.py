"""`veracity calibrate`: A/A runs of one commit; each benchmark's noise bands into benchmarks/noise.json."""

from __future__ import annotations

import argparse
from pathlib import Path

from veracity.cli.parsing import RUN_MACHINE_HELP, Commands, add_tracking_options, asv_config


def run(args: argparse.Namespace) -> int:
    from veracity.tracking.commands import calibrate_report

    report = calibrate_report(
        asv_config(args),
        commit=args.commit,
        runs=args.runs,
        bench=args.bench or (),
        machine=args.machine,
        noise_file=Path(args.noise_file) if args.noise_file else None,
        quiet_asv=args.quiet,
        keep_results=args.keep_results,
        paired=args.paired,
    )
    print(report.text)
    return report.exit_code


def register(commands: Commands) -> None:
    p = commands.add_parser("calibrate", help="A/A runs of one commit; store each benchmark's noise band")
    add_tracking_options(p, triage=False, machine_help=RUN_MACHINE_HELP)
    p.add_argument("--runs", type=int, default=5, help="A/A runs (default 5)")
    p.add_argument("--commit", default="HEAD", help="commit to run (default HEAD)")
    p.add_argument("--bench", "-b", action="append", help="regex of benchmarks to calibrate (repeatable)")
    p.add_argument("--keep-results", action="store_true", help="keep the last run's results instead of restoring")
    p.add_argument(
        "--no-paired",
        dest="paired",
        action="store_false",
        help="skip the twin commit run beside each run (no paired bands for `continuous`)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="hide asv's own output")
    p.set_defaults(handler=run)
