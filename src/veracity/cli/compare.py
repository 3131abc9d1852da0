"""`veracity compare` and `veracity continuous`: two commits judged by direction and noise (exit 1 if worse)."""

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
from veracity.tracking.commands import Judging, Report
from veracity.tracking.continuous import DEFAULT_ROUNDS


def _judging(args: argparse.Namespace) -> Judging:
    return Judging(
        machine=args.machine,
        files=tracking_files(args),
        policy=policy(args),
        rerun=args.rerun,
        quiet_asv=args.quiet,
        fmt=report_format(args),
        only_changed=args.only_changed,
    )


def _print(report: Report, args: argparse.Namespace) -> int:
    text = report.text
    if getattr(args, "explain", False) and report.failing:
        text = _with_explanations(asv_config(args), text, report, args)
    emit(text, args.output)
    if report_format(args) == "text" and not args.output and report.summary:
        print(report.summary)
    return report.exit_code


def _with_explanations(config, text: str, report: Report, args: argparse.Namespace) -> str:
    """The report with each benchmark that fails it explained (veracity explain's top lines), within the budget."""
    from veracity.explain.attach import Suspect, with_explanations

    suspects = [Suspect(key, before, after) for key, before, after in report.failing]
    return with_explanations(config.repo, text, suspects, report_format(args), args.explain_budget)


def add_explain_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--explain",
        action="store_true",
        help="attach each regression's explanation (veracity explain's top lines), largest first, within a budget",
    )
    parser.add_argument(
        "--explain-budget",
        type=float,
        default=300.0,
        help="seconds to spend explaining (default 300; about 40-90 s a model benchmark on 2 CPUs)",
    )


def run_compare(args: argparse.Namespace) -> int:
    from veracity.tracking.commands import compare_report

    judging = _judging(args)  # checked before any file is read
    report = compare_report(
        asv_config(args), args.revision1, args.revision2, judging, paired=args.paired, rounds=args.rounds
    )
    return _print(report, args)


def run_continuous(args: argparse.Namespace) -> int:
    from veracity.tracking.asvrun import RunOptions
    from veracity.tracking.commands import continuous_report

    run = RunOptions(
        bench=tuple(args.bench or ()),
        machine=args.machine,
        interleave=args.interleave_rounds,
        show_stderr=args.show_stderr,
        launch_method=args.launch_method,
    )
    judging = _judging(args)  # checked before any file is read
    return _print(continuous_report(asv_config(args), args.base, args.branch, judging, run, rounds=args.rounds), args)


def register(commands: Commands) -> None:
    p = commands.add_parser("compare", help="direction- and noise-aware `asv compare` (exit 1 if worse)")
    p.add_argument("revision1", help="the reference commit")
    p.add_argument("revision2", help="the commit compared with it")
    add_tracking_options(p)
    add_format_options(p)
    add_rerun_option(p)
    p.add_argument("--only-changed", action="store_true", help="list only changed benchmarks")
    p.add_argument("--quiet", "-q", action="store_true", help="hide asv's output during re-runs")
    p.add_argument(
        "--paired",
        action="store_true",
        help="both commits were measured in one asv run (as asv continuous does): judge with the paired bands",
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=0,
        help="re-run grey benchmarks as this many interleaved rounds of both commits, judged with the noise "
        "of those rounds as veracity continuous judges (2 or more; needs a virtualenv environment). "
        "Default 0: re-runs pooled and judged against the bands",
    )
    add_explain_options(p)
    p.set_defaults(handler=run_compare)

    p = commands.add_parser("continuous", help="`asv continuous` that knows direction and noise (exit 1 if worse)")
    p.add_argument("base", nargs="?", default=None, help="commit to compare against (default: parent of branch)")
    p.add_argument("branch", help="commit or branch to test")
    add_tracking_options(p, machine_help=RUN_MACHINE_HELP)
    add_format_options(p)
    add_rerun_option(p)
    p.add_argument("--bench", "-b", action="append", help="regex of benchmarks to run (repeatable)")
    p.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"interleaved rounds, one asv run each, judged with this run's own noise (default {DEFAULT_ROUNDS}); "
        "each --rerun adds as many to grey results. 1: one asv run with the suite's rounds, judged against "
        "calibrated bands",
    )
    p.add_argument("--launch-method", choices=["auto", "spawn", "forkserver"], help="passed to asv run")
    p.add_argument(
        "--interleave-rounds",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the two commits' rounds in alternating order, as asv continuous does (default)",
    )
    p.add_argument("--show-stderr", "-e", action="store_true", help="passed to asv run")
    p.add_argument("--only-changed", action="store_true", default=True, help=argparse.SUPPRESS)
    p.add_argument("--quiet", "-q", action="store_true", help="hide asv's own output")
    add_explain_options(p)
    p.set_defaults(handler=run_continuous)
