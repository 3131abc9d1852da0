"""Verdict quality in depth: macro-F1 and per-class F1 of the pipeline's verdicts on the shipped claims,
and their confusion matrix, cell by cell.

Verdict accuracy (`pipeline.VerifyClaims.track_verdict_accuracy`) is one number and hides which class
paid: answering every third "refuted" verdict "supported" (measured) took accuracy from 0.550 to 0.492,
refuted F1 from 0.503 to 0.391, supported F1 from 0.726 to 0.648, and the (refuted, supported) cell
from 32 to 47 claims. The claims run through the pipeline once per asv run, against the corpus table
the pipeline benchmarks keep; every figure here reads that pass.
"""

from __future__ import annotations

from benchmarks.common import Tracked, descriptive
from benchmarks.metric_shim import ConfusionMatrix
from benchmarks.run_cache import once_per_run
from veracity.data import VERDICTS, load_claims
from veracity.tracking.direction import higher_is_better


class VerdictQuality(Tracked):
    """Macro-F1, F1 per verdict, and the confusion matrix's counts (gold verdict, predicted verdict)."""

    timeout = 300  # the first benchmark of a run verifies the claim set (~15-40 s)

    def setup(self, *params: str) -> None:
        self.matrix = verdict_matrix()

    @higher_is_better("ratio")
    def track_macro_f1(self) -> float:
        return self.matrix.macro_f1()

    @higher_is_better("ratio")
    def track_class_f1(self, verdict: str) -> float:
        return self.matrix.f1(verdict)

    track_class_f1.params = list(VERDICTS)
    track_class_f1.param_names = ["verdict"]

    @descriptive("claims")  # a cell has no better side on its own: the F1 figures above judge
    def track_confusion(self, gold: str, predicted: str) -> int:
        return self.matrix.count(gold, predicted)

    track_confusion.params = [list(VERDICTS), list(VERDICTS)]
    track_confusion.param_names = ["gold", "predicted"]


def verdict_matrix() -> ConfusionMatrix:
    labels = once_per_run("quality.verdicts", verdict_labels)
    return ConfusionMatrix.from_labels(labels["gold"], labels["predicted"], VERDICTS)


def verdict_labels() -> dict[str, list[str]]:
    """Every shipped claim's gold verdict and the pipeline's, against the pipeline suite's kept table."""
    from benchmarks.pipeline import attached_verifier, kept_store

    # The pipeline suite's own memo name: a run that measures both loads and indexes the corpus once.
    schema = once_per_run("pipeline.kept_store", lambda: {"schema": kept_store()})["schema"]
    claims = load_claims()
    verifier = attached_verifier(schema)
    try:
        predicted = [verdict.verdict for verdict in verifier.verify_many(c.claim for c in claims)]
    finally:
        verifier.store.close()
    return {"gold": [c.verdict for c in claims], "predicted": predicted}
