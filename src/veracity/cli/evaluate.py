"""`veracity evaluate`: verdict accuracy and latency of the pipeline on the shipped claims."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from veracity.cli.parsing import Commands, add_pipeline_options, settings


def run(args: argparse.Namespace) -> int:
    from veracity.data import load_claims
    from veracity.pipeline.evaluate import evaluate
    from veracity.pipeline.session import open_pipeline

    with open_pipeline(settings(args), show_progress=True) as verifier:
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


def register(commands: Commands) -> None:
    parser = commands.add_parser("evaluate", help="verdict accuracy on the shipped claims")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_pipeline_options(parser)
    parser.set_defaults(handler=run)
