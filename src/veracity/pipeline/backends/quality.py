"""The quality gate an int8 model must pass before the fast path uses it, and the data it is calibrated on.

Embeddings: mean cosine to the torch fp32 vectors on the first passages of the shipped corpus.
NLI: held-out accuracy no more than 0.02 below torch's and the same label on at least 95% of pairs.
An int8 model is judged when it is built, and the record is kept beside it with the identity of
the code that judged it (`judge_identity`): dynamic int8 quantizes activations per batch, so the
verdict depends on how inputs are batched, and a change to that code re-judges the cached model
(its weights are kept). Calibration
(which products stay fp32 in the mixed variant) uses other texts than the gate: corpus passages
after the gate's, and training pairs.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import asdict, dataclass
from importlib import util
from pathlib import Path
from typing import Any

import numpy as np

MIN_MEAN_COSINE = 0.99
MAX_ACCURACY_DROP = 0.02
MIN_AGREEMENT = 0.95
GATE_PASSAGES = 256
CALIBRATION_SIZE = 64

JUDGING_MODULES = {
    "embedding": ("veracity.pipeline.embedding",),
    "nli": ("veracity.pipeline.nli",),
}
"""Per kind, the module that tokenizes and batches its inputs; the shared ones are added by `judge_identity`."""
SHARED_JUDGING_MODULES = (
    "veracity.pipeline.batching",
    "veracity.pipeline.backends.quality",
    "veracity.pipeline.backends.runtime",
)


@dataclass(frozen=True)
class GateRecord:
    """How an int8 model compared with torch fp32, the rule it was held to, and whether it passed."""

    passed: bool
    rule: str
    measures: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GateRecord:
        return cls(passed=bool(data["passed"]), rule=str(data["rule"]), measures=dict(data["measures"]))


@functools.cache
def judge_identity(kind: str) -> str:
    """Hash of the source of the code whose behaviour a `kind` gate verdict depends on.

    The batches an int8 model sees change its activation scales and so its labels: the held-out
    agreement of one cached NLI model moved from 0.951 to 0.947 when NLI batching changed, which a
    record judged under the old batching did not show. Cached: the installed source does not
    change under a running process.
    """
    digest = hashlib.sha256()
    for name in (*JUDGING_MODULES.get(kind, ()), *SHARED_JUDGING_MODULES):
        spec = util.find_spec(name)
        origin = spec.origin if spec else None
        digest.update(name.encode())
        digest.update(Path(origin).read_bytes() if origin else b"")
    return digest.hexdigest()[:16]


def embedding_gate(reference: np.ndarray, candidate: np.ndarray) -> GateRecord:
    """Judge `candidate` unit vectors against `reference` ones, row by row."""
    cosines = (reference * candidate).sum(axis=1)
    mean = float(cosines.mean())
    return GateRecord(
        passed=mean >= MIN_MEAN_COSINE,
        rule=f"mean cosine to torch fp32 >= {MIN_MEAN_COSINE}",
        measures={"cosine_mean": round(mean, 5), "cosine_min": round(float(cosines.min()), 5), "texts": len(cosines)},
    )


def nli_gate(reference: list[str], candidate: list[str], gold: list[str]) -> GateRecord:
    """Judge `candidate` labels against torch's `reference` labels and the `gold` ones."""
    n = len(gold)
    reference_accuracy = sum(r == g for r, g in zip(reference, gold, strict=True)) / n
    accuracy = sum(c == g for c, g in zip(candidate, gold, strict=True)) / n
    agreement = sum(r == c for r, c in zip(reference, candidate, strict=True)) / n
    return GateRecord(
        passed=accuracy >= reference_accuracy - MAX_ACCURACY_DROP and agreement >= MIN_AGREEMENT,
        rule=f"held-out accuracy >= torch's - {MAX_ACCURACY_DROP} and label agreement >= {MIN_AGREEMENT}",
        measures={
            "torch_accuracy": round(reference_accuracy, 4),
            "accuracy": round(accuracy, 4),
            "agreement": round(agreement, 4),
            "pairs": n,
        },
    )
