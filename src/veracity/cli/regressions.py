"""`veracity regressions`: open regressions of the latest commit (exit 1 if any is not accepted)."""

from __future__ import annotations

import argparse
import json
import math
import sys
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
    """The report with each regression's explanation (veracity explain's top lines) attached."""
    from veracity.explain.attach import (
        Suspect,
        attach_explanations,
        explanations_json,
        explanations_markdown,
        explanations_text,
    )

    rows = [
        r for r in found.get("regressions", []) if r.get("verdict") in ("worse", "failed") and not r.get("accepted")
    ]
    rows.sort(key=lambda r: -abs(math.log(r["ratio"])) if r.get("ratio") else 0.0)
    suspects = [Suspect(r["key"], r.get("good_commit"), r["first_bad_commit"]) for r in rows]
    attached = attach_explanations(
        repo, suspects, budget_s=args.explain_budget, log=lambda m: print(m, file=sys.stderr, flush=True)
    )
    fmt = report_format(args)
    if fmt == "json":
        payload = json.loads(text)
        payload["explanations"] = explanations_json(attached)
        return json.dumps(payload, indent=2)
    if not suspects:
        return text
    section = explanations_markdown(attached) if fmt == "markdown" else explanations_text(attached)
    return text.rstrip("\n") + "\n\n" + section


def register(commands: Commands) -> None:
    p = commands.add_parser("regressions", help="open regressions of the latest commit (exit 1 if any not accepted)")
    add_tracking_options(p)
    add_format_options(p)
    p.add_argument("--branch", help="branch whose history to follow (default: first in asv.conf.json)")
    p.add_argument("--window", type=int, default=5, help="commits before a regression used as baseline (default 5)")
    add_explain_options(p)
    p.set_defaults(handler=run)
