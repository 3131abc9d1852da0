"""`veracity models build`: what a first use would build, built once and cached (make install runs it).

The default NLI model (trained), the ONNX graphs the configured backends run, and the corpus
embeddings; asv's install step runs it for every commit it measures.
"""

from __future__ import annotations

import argparse

from veracity.cli.parsing import Commands, add_cache_dir, settings


def run(args: argparse.Namespace) -> int:
    from veracity.pipeline.session import prepare_first_use

    for line in prepare_first_use(settings(args), force=args.force, show_progress=True):
        print(line, flush=True)
    return 0


def register(commands: Commands) -> None:
    models = commands.add_parser("models", help="build the default NLI model, ONNX graphs and corpus embeddings")
    sub = models.add_subparsers(dest="models_command", required=True, parser_class=type(models))
    build = sub.add_parser("build", help="everything a first use builds, once and cached")
    build.add_argument("--force", action="store_true", help="rebuild the NLI model even if a cached one exists")
    add_cache_dir(build, "where models are cached (default ~/.cache/veracity)")
    build.set_defaults(handler=run)
