"""`veracity explain A B -b PATTERN`: where a benchmark's body spends time at A and at B, largest change first."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from veracity.cli.parsing import Commands, emit
from veracity.errors import InputError


def run(args: argparse.Namespace) -> int:
    from veracity.explain.explainer import explain
    from veracity.explain.html_page import write_html
    from veracity.explain.pages import explain_store
    from veracity.explain.render import render_markdown, render_text
    from veracity.tracking.asvconf import AsvConfig

    if args.calls < 0 or args.pass_seconds <= 0:
        raise InputError("--calls must be 0 (automatic) or more and --pass-seconds above 0")
    found = explain(Path.cwd(), args.before, args.after, args.bench, calls=args.calls, pass_seconds=args.pass_seconds)
    emit(render_markdown(found) if args.markdown else render_text(found), args.output)
    if args.html:
        asv = AsvConfig.load(Path(args.config)) if Path(args.config).is_file() else None
        html_dir, kept = (asv.html_dir, explain_store(asv.results_dir)) if asv else (Path("html").resolve(), None)
        print(f"veracity: explain page written to {write_html(found, html_dir, keep_in=kept)}", file=sys.stderr)
    return 0


def register(commands: Commands) -> None:
    p = commands.add_parser(
        "explain",
        help="why a benchmark changed between two commits: Python frames, operators, SQL plans, stages",
    )
    p.add_argument("before", help="the commit before (hash, branch, tag)")
    p.add_argument("after", help="the commit after")
    p.add_argument("-b", "--bench", required=True, help="the one benchmark: its asv name, with (params) if any")
    p.add_argument("--markdown", action="store_true", help="print the pull-request comment's section")
    p.add_argument("--html", action="store_true", help="also write an explain page under the asv html_dir's explain/")
    p.add_argument("--output", "-o", help="write the text or Markdown to this file (atomically) instead of stdout")
    p.add_argument("--calls", type=int, default=0, help="calls of the body a pass (default: about 1 s of them)")
    p.add_argument("--pass-seconds", type=float, default=1.0, help="length of a pass when --calls is 0 (default 1)")
    p.add_argument("--config", default="asv.conf.json", help="asv config that names html_dir (default ./asv.conf.json)")
    p.set_defaults(handler=run)
