"""`veracity models build`: the default NLI model (trained once, cached) and the ONNX graphs the backends run."""

from __future__ import annotations

import argparse

from veracity.cli.parsing import Commands, add_cache_dir, settings


def run(args: argparse.Namespace) -> int:
    from veracity.config import effective_backend
    from veracity.pipeline.nli_training import build_default_nli
    from veracity.pipeline.session import load_embedder, load_nli

    configured = settings(args)
    report = build_default_nli(configured.cache_dir, force=args.force, show_progress=True)
    state = f"built in {report.seconds:.0f} s" if report.built else "cached"
    print(f"NLI model {state}: {report.path}")
    print(
        f"held-out accuracy {report.test_accuracy:.3f} on {report.test_pairs} pairs from template groups "
        f"unseen in training ({report.train_pairs} training pairs; the project's own synthetic set)"
    )
    # The ONNX graphs the configured backends run, exported now (asv's install step calls this)
    # rather than inside the first benchmark or the first `verify`.
    for what, backend, load in (
        ("embedding", configured.embedding_backend, load_embedder),
        ("NLI", configured.nli_backend, load_nli),
    ):
        if effective_backend(backend, configured.device) != "torch":
            info = load(configured, show_progress=True).backend_info
            print(f"{what} backend {info.requested}: {info.resolved} ({info.precision}) ready")
    return 0


def register(commands: Commands) -> None:
    models = commands.add_parser("models", help="build or inspect the default NLI model")
    sub = models.add_subparsers(dest="models_command", required=True, parser_class=type(models))
    build = sub.add_parser("build", help="fine-tune the default NLI cross-encoder (cached)")
    build.add_argument("--force", action="store_true", help="rebuild even if a cached model exists")
    add_cache_dir(build, "where models are cached (default ~/.cache/veracity)")
    build.set_defaults(handler=run)
