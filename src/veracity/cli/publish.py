"""`veracity publish`: `asv publish` built aside and swapped in whole, so an interrupt keeps the old html/."""

from __future__ import annotations

import argparse

from veracity.cli.parsing import Commands, add_config, asv_config


def run(args: argparse.Namespace) -> int:
    from veracity.tracking.publish import publish_site

    html = publish_site(asv_config(args), quiet=args.quiet)
    print(f"veracity: site written to {html}; browse it with `asv preview`")
    return 0


def register(commands: Commands) -> None:
    p = commands.add_parser("publish", help="`asv publish` swapped in whole: an interrupt keeps the old html/")
    add_config(p)
    p.add_argument("--quiet", "-q", action="store_true", help="hide asv's own output")
    p.set_defaults(handler=run)
