"""Verdict accuracy and evidence recall of the pipeline on the shipped claims."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from veracity.data import VERDICTS, Claim
from veracity.pipeline.progress import progress_bar
from veracity.pipeline.verify import Verdict, Verifier


@dataclass(frozen=True)
class AccuracyReport:
    """How often the verdict was right, per gold verdict, and how often gold evidence was retrieved."""

    claims: int
    accuracy: float
    per_verdict: dict[str, float]
    evidence_recall: float
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    p50_ms: float = 0.0
    p95_ms: float = 0.0


def score(claims: Sequence[Claim], verdicts: Sequence[Verdict]) -> AccuracyReport:
    """Compare verdicts with gold labels; evidence recall counts claims with gold evidence only."""
    confusion: dict[str, Counter] = {v: Counter() for v in VERDICTS}
    found = needed = 0
    for claim, verdict in zip(claims, verdicts, strict=True):
        confusion[claim.verdict][verdict.verdict] += 1
        if claim.evidence:
            needed += 1
            found += bool(set(claim.evidence) & {e.passage_id for e in verdict.evidence})
    right = sum(confusion[v][v] for v in VERDICTS)
    seconds = np.array([v.seconds for v in verdicts]) * 1000
    return AccuracyReport(
        claims=len(claims),
        accuracy=right / len(claims),
        per_verdict={v: confusion[v][v] / max(1, sum(confusion[v].values())) for v in VERDICTS},
        evidence_recall=found / max(1, needed),
        confusion={v: dict(confusion[v]) for v in VERDICTS},
        p50_ms=float(np.percentile(seconds, 50)),
        p95_ms=float(np.percentile(seconds, 95)),
    )


def evaluate(verifier: Verifier, claims: Sequence[Claim], *, show_progress: bool = False) -> AccuracyReport:
    """Run every claim through the pipeline and score the verdicts."""
    texts = [c.claim for c in claims]
    verdicts = list(progress_bar(verifier.verify_many(texts), enabled=show_progress, total=len(texts), desc="claims"))
    return score(claims, verdicts)
