"""`veracity regressions`: open regressions of the latest commit (exit 1 if any is not accepted)."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from veracity.cli.compare import add_explain_options
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
from veracity.tracking.commands import Report


def run(args: argparse.Namespace) -> int:
    from veracity.tracking.commands import regressions_report

    config = asv_config(args)

    def report_as(fmt: str) -> Report:
        return regressions_report(
            config,
            machine=args.machine,
            branch=args.branch,
            files=tracking_files(args),
            policy=policy(args),
            window=args.window,
            fmt=fmt,
        )

    report = report_as(report_format(args))
    text = report.text
    if args.explain:
        text = _with_explanations(config.repo, text, json.loads(report_as("json").text), args)
    emit(text, args.output)
    return report.exit_code


def _with_explanations(repo: Path, text: str, found: dict, args: argparse.Namespace) -> str:
    """The report with each open regression's explanation attached, the largest change first."""
    from veracity.explain.attach import Suspect, with_explanations

    rows = [
        r for r in found.get("regressions", []) if r.get("verdict") in ("worse", "failed") and not r.get("accepted")
    ]
    rows.sort(key=lambda r: -abs(math.log(r["ratio"])) if r.get("ratio") else 0.0)
    suspects = [Suspect(r["key"], r.get("good_commit"), r["first_bad_commit"]) for r in rows]
    return with_explanations(repo, text, suspects, report_format(args), args.explain_budget)


def register(commands: Commands) -> None:
    p = commands.add_parser("regressions", help="open regressions of the latest commit (exit 1 if any not accepted)")
    add_tracking_options(p)
    add_format_options(p)
    p.add_argument("--branch", help="branch whose history to follow (default: first in asv.conf.json)")
    p.add_argument("--window", type=int, default=5, help="commits before a regression used as baseline (default 5)")
    add_explain_options(p)
    p.set_defaults(handler=run)
