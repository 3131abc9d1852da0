"""`veracity data check`: the shipped datasets' checksums and counts."""

from __future__ import annotations

import argparse

from veracity.cli.parsing import Commands


def run(args: argparse.Namespace) -> int:
    from veracity.data import dataset_version, load_claims, load_corpus, load_nli_pairs, verify_checksums

    verify_checksums()
    print(
        f"datasets v{dataset_version()} ok: {len(load_corpus())} passages, {len(load_claims())} claims, "
        f"{len(load_nli_pairs())} NLI pairs; checksums match"
    )
    return 0


def register(commands: Commands) -> None:
    data = commands.add_parser("data", help="check the shipped datasets")
    sub = data.add_subparsers(dest="data_command", required=True, parser_class=type(data))
    sub.add_parser("check", help="verify checksums and counts").set_defaults(handler=run)
