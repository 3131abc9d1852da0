"""The `veracity` parser, assembled from one small module per command, and the entry point."""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from types import FrameType

from veracity.cli import (
    bench,
    bisect,
    calibrate,
    cloud,
    compare,
    data,
    db,
    evaluate,
    explain,
    models,
    publish,
    regressions,
    targets,
    verify,
)
from veracity.cli.handler import run_handler
from veracity.cli.parsing import Commands, UsageParser

COMMAND_MODULES = (
    verify,
    evaluate,
    models,
    data,
    bench,
    db,
    regressions,
    compare,
    bisect,
    calibrate,
    targets,
    publish,
    cloud,
    explain,
)

EXIT_INTERRUPTED = 130


def register(commands: Commands) -> None:
    """Add every `veracity` command to `commands` (the subparsers of a parser)."""
    for module in COMMAND_MODULES:
        module.register(commands)


def build_parser() -> UsageParser:
    parser = UsageParser(prog="veracity", description="Verify claims and track the pipeline's performance with asv.")
    register(parser.add_subparsers(dest="command", required=True, parser_class=UsageParser))
    return parser


def _terminate(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception so `finally` blocks stop the embedded server and drop schemas.
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; user errors become one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return run_handler(args.handler, args)
    except KeyboardInterrupt:
        print("veracity: interrupted; no file was left half written (re-run to resume)", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
