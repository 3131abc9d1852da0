"""The `veracity` command line: verify claims, evaluate, build models, check data."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from veracity.cli.handler import run_handler
from veracity.cloud.cli import register as register_cloud_commands
from veracity.config import Settings
from veracity.errors import VeracityError
from veracity.tracking.cli import register as register_tracking_commands

EXIT_USAGE = 2


class _UsageParser(argparse.ArgumentParser):
    """argparse that exits 2 with one line, as every other user error does."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"veracity: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _settings(args: argparse.Namespace) -> Settings:
    base = Settings.from_env()
    cache_dir = Path(args.cache_dir) if getattr(args, "cache_dir", None) else None
    return base.with_overrides(
        embedding_model=getattr(args, "embedding_model", None),
        nli_model=getattr(args, "nli_model", None),
        device=getattr(args, "device", None),
        top_k=getattr(args, "top_k", None),
        index=getattr(args, "index", None),
        store=getattr(args, "store", None),
        database_url=getattr(args, "database_url", None),
        cache_dir=cache_dir,
        embedding_backend=getattr(args, "embedding_backend", None),
        nli_backend=getattr(args, "nli_backend", None),
    )


def _add_pipeline_options(parser: argparse.ArgumentParser) -> None:
    from veracity.config import BACKENDS

    parser.add_argument("--embedding-model", help="model directory or hub id (default: shipped MiniLM)")
    parser.add_argument("--nli-model", help="NLI cross-encoder directory or hub id (default: built by veracity)")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="where models run (default cpu)")
    parser.add_argument(
        "--embedding-backend",
        choices=BACKENDS,
        help="embedding forward pass: auto (default: onnx-fp32 on CPU, torch on GPU), torch, onnx-fp32, onnx-int8, "
        "or fast (chosen per CPU, quality-gated)",
    )
    parser.add_argument("--nli-backend", choices=BACKENDS, help="NLI forward pass, as --embedding-backend")
    parser.add_argument("--top-k", type=int, help="evidence passages per claim (default 5)")
    parser.add_argument("--index", choices=["exact", "ivfflat", "hnsw"], help="pgvector index (default hnsw)")
    parser.add_argument("--store", choices=["pgvector", "numpy"], help="vector store (default pgvector)")
    parser.add_argument("--database-url", help="PostgreSQL DSN; default VERACITY_DATABASE_URL or embedded")
    parser.add_argument("--cache-dir", help="models, embeddings and embedded database (default ~/.cache/veracity)")


def _cmd_verify(args: argparse.Namespace) -> int:
    from veracity.cli.claims_file import ClaimInput, read_claims_file

    if (args.claim is None) == (args.file is None):
        raise VeracityError("give one claim as an argument or --file claims.jsonl, not both or neither")
    if args.file is not None:
        claims = read_claims_file(Path(args.file))
    else:
        if not args.claim.strip():
            raise VeracityError("the claim is empty or whitespace; give a sentence to check")
        claims = [ClaimInput(id="1", claim=args.claim)]
    settings = _settings(args)
    if args.output:
        return _verify_to_file(claims, settings, Path(args.output))
    from veracity.pipeline.progress import progress_bar
    from veracity.pipeline.session import open_pipeline

    printed = 0
    try:
        with open_pipeline(settings, show_progress=True) as verifier:
            verdicts = verifier.verify_many(c.claim for c in claims)
            rows = progress_bar(
                zip(claims, verdicts, strict=True), enabled=len(claims) > 1, total=len(claims), desc="claims"
            )
            for claim, verdict in rows:
                print(json.dumps({"id": claim.id, **verdict.to_json()}), flush=True)
                printed += 1
    except VeracityError as exc:
        if printed:
            raise type(exc)(f"{exc}; the {printed} of {len(claims)} verdicts printed before it stand") from None
        raise
    return 0


def _verify_to_file(claims: list, settings: Settings, output: Path) -> int:
    """Verdicts to `output`, resumable: finished ones survive a lost database, a full disk or an interrupt."""
    from dataclasses import asdict

    from veracity.cli.journal import Journal, run_key
    from veracity.fsutil import ensure_writable_dir
    from veracity.pipeline.progress import progress_bar
    from veracity.pipeline.session import open_pipeline

    ensure_writable_dir(output.parent, "output")  # before the models load, not after every claim is done

    # The DSN and cache folder are left out: the same claims and models give the same verdicts anywhere.
    fields = {k: str(v) for k, v in asdict(settings).items() if k not in ("database_url", "cache_dir")}
    key = run_key([f"{c.id}\0{c.claim}" for c in claims], [f"{k}={v}" for k, v in sorted(fields.items())])
    with Journal(output, key) as journal:
        if journal.count:
            print(f"veracity: resuming: {journal.count} of {len(claims)} done in {journal.path}", file=sys.stderr)
        todo = claims[journal.count :]
        try:
            if todo:
                with open_pipeline(settings, show_progress=True) as verifier:
                    verdicts = verifier.verify_many(c.claim for c in todo)
                    rows = progress_bar(
                        zip(todo, verdicts, strict=True), enabled=len(todo) > 1, total=len(todo), desc="claims"
                    )
                    for claim, verdict in rows:
                        journal.append(json.dumps({"id": claim.id, **verdict.to_json()}))
        except VeracityError as exc:
            raise type(exc)(
                f"{exc}; {journal.count} of {len(claims)} verdicts are kept in {journal.path}: "
                "re-run the same command to finish the rest"
            ) from None
        except KeyboardInterrupt:
            print(f"veracity: {journal.count} of {len(claims)} verdicts are kept in {journal.path}", file=sys.stderr)
            raise
        journal.commit()
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from veracity.data import load_claims
    from veracity.pipeline.evaluate import evaluate
    from veracity.pipeline.session import open_pipeline

    with open_pipeline(_settings(args), show_progress=True) as verifier:
        report = evaluate(verifier, load_claims(), show_progress=True)
    if args.json:
        print(json.dumps(asdict(report), indent=2))
    else:
        print(f"claims: {report.claims}  verdict accuracy: {report.accuracy:.3f}", end="  ")
        print(f"evidence recall@k: {report.evidence_recall:.3f}")
        for verdict, acc in report.per_verdict.items():
            print(f"  {verdict:<16} {acc:.3f}")
        print(f"latency per claim: p50 {report.p50_ms:.1f} ms, p95 {report.p95_ms:.1f} ms")
    return 0


def _cmd_models_build(args: argparse.Namespace) -> int:
    from veracity.pipeline.nli_training import build_default_nli

    report = build_default_nli(_settings(args).cache_dir, force=args.force, show_progress=True)
    state = f"built in {report.seconds:.0f} s" if report.built else "cached"
    print(f"NLI model {state}: {report.path}")
    print(
        f"held-out accuracy {report.test_accuracy:.3f} on {report.test_pairs} pairs from template groups "
        f"unseen in training ({report.train_pairs} training pairs; the project's own synthetic set)"
    )
    # The ONNX graphs the configured backends run, exported now (asv's install step calls this)
    # rather than inside the first benchmark or the first `verify`.
    from veracity.config import effective_backend
    from veracity.pipeline.session import load_embedder, load_nli

    settings = _settings(args)
    for what, backend, load in (
        ("embedding", settings.embedding_backend, load_embedder),
        ("NLI", settings.nli_backend, load_nli),
    ):
        if effective_backend(backend, settings.device) != "torch":
            info = load(settings, show_progress=True).backend_info
            print(f"{what} backend {info.requested}: {info.resolved} ({info.precision}) ready")
    return 0


def _cmd_data_check(args: argparse.Namespace) -> int:
    from veracity.data import dataset_version, load_claims, load_corpus, load_nli_pairs, verify_checksums

    verify_checksums()
    print(
        f"datasets v{dataset_version()} ok: {len(load_corpus())} passages, {len(load_claims())} claims, "
        f"{len(load_nli_pairs())} NLI pairs; checksums match"
    )
    return 0


def _cmd_db(args: argparse.Namespace) -> int:
    from veracity.db.server import EmbeddedServer, embedded_status, stop_embedded

    cache_dir = _settings(args).cache_dir
    if args.db_command == "start":
        print(EmbeddedServer(cache_dir, keep_running=True).start())
    elif args.db_command == "stop":
        print("stopped" if stop_embedded(cache_dir) else "not running")
    else:
        running, holders = embedded_status(cache_dir)
        print(f"{'running' if running else 'not running'}; held by {len(holders)} live process(es)")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from veracity.bench.run import BenchOptions, run_bench

    options = BenchOptions(
        commits=args.commits,
        quick=args.quick,
        bench=tuple(args.bench or ()),
        config=Path(args.config),
        publish=not args.no_publish,
    )
    return run_bench(options, _settings(args))


def build_parser() -> argparse.ArgumentParser:
    parser = _UsageParser(prog="veracity", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_UsageParser)

    verify = commands.add_parser("verify", help="verify a claim, or a JSON-lines file of claims")
    verify.add_argument("claim", nargs="?", help="the claim to verify")
    verify.add_argument("--file", help='JSON-lines file, one {"claim": ..., "id": ...} per line')
    verify.add_argument("--output", help="write JSON lines here (atomically) instead of stdout")
    _add_pipeline_options(verify)
    verify.set_defaults(handler=_cmd_verify)

    evaluate = commands.add_parser("evaluate", help="verdict accuracy on the shipped claims")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    _add_pipeline_options(evaluate)
    evaluate.set_defaults(handler=_cmd_evaluate)

    models = commands.add_parser("models", help="build or inspect the default NLI model")
    model_commands = models.add_subparsers(dest="models_command", required=True, parser_class=_UsageParser)
    build = model_commands.add_parser("build", help="fine-tune the default NLI cross-encoder (cached)")
    build.add_argument("--force", action="store_true", help="rebuild even if a cached model exists")
    build.add_argument("--cache-dir", help="where models are cached (default ~/.cache/veracity)")
    build.set_defaults(handler=_cmd_models_build)

    data = commands.add_parser("data", help="check the shipped datasets")
    data_commands = data.add_subparsers(dest="data_command", required=True, parser_class=_UsageParser)
    check = data_commands.add_parser("check", help="verify checksums and counts")
    check.set_defaults(handler=_cmd_data_check)
    bench = commands.add_parser("bench", help="the main job: asv over the last N commits, publish, report")
    bench.add_argument("--commits", type=int, default=5, help="how many recent commits to measure (default 5)")
    bench.add_argument("--quick", action="store_true", help="one sample per benchmark (asv --quick)")
    bench.add_argument("--bench", action="append", help="only benchmarks matching this regex (repeatable)")
    bench.add_argument("--config", default="asv.conf.json", help="asv configuration (default ./asv.conf.json)")
    bench.add_argument("--no-publish", action="store_true", help="measure only; skip asv publish")
    bench.add_argument("--cache-dir", help="models, embeddings and embedded database (default ~/.cache/veracity)")
    bench.set_defaults(handler=_cmd_bench)

    db = commands.add_parser("db", help="the embedded PostgreSQL: start, stop, status")
    db.add_argument("db_command", choices=["start", "stop", "status"])
    db.add_argument("--cache-dir", help="where the embedded server keeps its data (default ~/.cache/veracity)")
    db.set_defaults(handler=_cmd_db)
    register_tracking_commands(commands)
    register_cloud_commands(commands)
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
        return 130


if __name__ == "__main__":
    sys.exit(main())
