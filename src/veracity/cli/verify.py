"""`veracity verify`: verify one claim, or a JSON-lines file of claims."""

from __future__ import annotations

import argparse
from pathlib import Path

from veracity.cli.parsing import Commands, add_pipeline_options, settings
from veracity.errors import VeracityError


def run(args: argparse.Namespace) -> int:
    from veracity.pipeline.claims_file import ClaimInput, read_claims_file
    from veracity.pipeline.verdict_lines import verify_to_file, verify_to_stdout

    if (args.claim is None) == (args.file is None):
        raise VeracityError("give one claim as an argument or --file claims.jsonl, not both or neither")
    if args.file is not None:
        claims = read_claims_file(Path(args.file))
    else:
        if not args.claim.strip():
            raise VeracityError("the claim is empty or whitespace; give a sentence to check")
        claims = [ClaimInput(id="1", claim=args.claim)]
    if args.output:
        verify_to_file(claims, settings(args), Path(args.output))
    else:
        verify_to_stdout(claims, settings(args))
    return 0


def register(commands: Commands) -> None:
    parser = commands.add_parser("verify", help="verify a claim, or a JSON-lines file of claims")
    parser.add_argument("claim", nargs="?", help="the claim to verify")
    parser.add_argument("--file", help='JSON-lines file, one {"claim": ..., "id": ...} per line')
    parser.add_argument("--output", help="write JSON lines here (atomically) instead of stdout")
    add_pipeline_options(parser)
    parser.set_defaults(handler=run)
