"""What the `veracity` commands share when they parse: the parser class, common options, output."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from veracity.config import Settings
from veracity.fsutil import atomic_write_text
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.commands import TrackingFiles
from veracity.tracking.detect import Policy

EXIT_USAGE = 2
Commands = argparse._SubParsersAction


class UsageParser(argparse.ArgumentParser):
    """argparse that exits 2 with one line, as every other user error does."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"veracity: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def emit(text: str, output: str | None) -> None:
    """Print a report, or write it to `output` atomically."""
    if output:
        atomic_write_text(Path(output), text if text.endswith("\n") else text + "\n")
    else:
        print(text.rstrip("\n"))


# --- the pipeline's options -----------------------------------------------------------------------


def add_cache_dir(parser: argparse.ArgumentParser, help_text: str = "") -> None:
    parser.add_argument(
        "--cache-dir", help=help_text or "models, embeddings and embedded database (default ~/.cache/veracity)"
    )


def add_pipeline_options(parser: argparse.ArgumentParser) -> None:
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
    add_cache_dir(parser)


def settings(args: argparse.Namespace) -> Settings:
    """The environment's settings with the command's options on top."""
    cache_dir = Path(args.cache_dir) if getattr(args, "cache_dir", None) else None
    return Settings.from_env().with_overrides(
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


# --- the tracker's options ------------------------------------------------------------------------

RUN_MACHINE_HELP = "machine to record the runs under (default: this host's, as `veracity bench` names it)"


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="asv.conf.json", help="asv config file (default ./asv.conf.json)")


def add_tracking_options(
    parser: argparse.ArgumentParser,
    *,
    noise: bool = True,
    triage: bool = True,
    machine_help: str = "machine whose results to use (default: the only one)",
) -> None:
    add_config(parser)
    parser.add_argument("--machine", "-m", help=machine_help)
    if noise:
        parser.add_argument("--noise-file", help="calibrated bands (default <benchmark_dir>/noise.json)")
        parser.add_argument(
            "--min-change",
            type=float,
            default=Policy.min_change,
            help="threshold of a benchmark with no calibrated band (default 0.05)",
        )
        parser.add_argument(
            "--calibrated-floor",
            type=float,
            default=Policy.calibrated_floor,
            help="smallest change flagged where a band was calibrated (default 0.03)",
        )
    if triage:
        parser.add_argument("--triage-file", help="accepted regressions (default <benchmark_dir>/triage.toml)")


def add_format_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true", help="print JSON")
    group.add_argument("--markdown", action="store_true", help="print Markdown (for a pull-request comment)")
    parser.add_argument("--output", "-o", help="write the report to this file (atomically) instead of stdout")


def add_rerun_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rerun", type=int, default=2, help="re-runs of grey-zone benchmarks before a verdict (default 2)"
    )


def asv_config(args: argparse.Namespace) -> AsvConfig:
    return AsvConfig.load(Path(args.config))


def report_format(args: argparse.Namespace) -> str:
    return "json" if getattr(args, "json", False) else "markdown" if getattr(args, "markdown", False) else "text"


def tracking_files(args: argparse.Namespace) -> TrackingFiles:
    noise, triage = getattr(args, "noise_file", None), getattr(args, "triage_file", None)
    return TrackingFiles(noise=Path(noise) if noise else None, triage=Path(triage) if triage else None)


def policy(args: argparse.Namespace) -> Policy:
    return Policy(min_change=args.min_change, calibrated_floor=args.calibrated_floor)
