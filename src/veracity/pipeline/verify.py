"""Claim verification: embed the claim, retrieve top-k evidence, run NLI over each, decide a verdict."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import psutil

from veracity.errors import InputError
from veracity.pipeline.embedding import Embedder
from veracity.pipeline.evidence import EvidenceUnit
from veracity.pipeline.nli import NliModel
from veracity.pipeline.store import SearchHit, VectorStore

SUPPORTED, REFUTED, NOT_ENOUGH_INFO = "supported", "refuted", "not_enough_info"
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class EvidenceScore:
    """One retrieved passage and what the NLI model made of it against the claim."""

    passage_id: str
    text: str
    retrieval_score: float
    entailment: float
    neutral: float
    contradiction: float


@dataclass(frozen=True)
class StageCost:
    """Wall time of one stage and the process's resident memory when it ended."""

    stage: str
    seconds: float
    rss_bytes: int


@dataclass(frozen=True)
class Verdict:
    """The pipeline's answer for one claim, with its evidence and cost."""

    claim: str
    verdict: str
    confidence: float
    evidence: tuple[EvidenceScore, ...]
    stages: tuple[StageCost, ...]
    truncated_tokens: bool = False

    @property
    def seconds(self) -> float:
        return sum(stage.seconds for stage in self.stages)

    def to_json(self) -> dict:
        record = asdict(self)
        record["seconds"] = self.seconds
        return record


def decide(evidence: Sequence[EvidenceScore], threshold: float = DEFAULT_THRESHOLD) -> tuple[str, float]:
    """Strongest entailment or contradiction over the evidence decides; weak signals mean not enough info."""
    if not evidence:
        return NOT_ENOUGH_INFO, 1.0
    best_entail = max(e.entailment for e in evidence)
    best_contra = max(e.contradiction for e in evidence)
    if best_entail >= threshold and best_entail >= best_contra:
        return SUPPORTED, best_entail
    if best_contra >= threshold:
        return REFUTED, best_contra
    return NOT_ENOUGH_INFO, 1.0 - max(best_entail, best_contra)


def corpus_fingerprint(embedder: Embedder, units: Sequence[EvidenceUnit]) -> str:
    """Key for cached corpus embeddings: the model, its backend and every evidence unit's text."""
    digest = hashlib.sha256(f"{embedder.name}|{embedder.max_seq_length}|{embedder.dim}".encode())
    info = embedder.backend_info
    if info.resolved != "torch":  # torch keys stay as they were, so existing caches remain valid
        digest.update(f"|{info.resolved}|{info.precision}|{info.model_file}".encode())
    for unit in units:
        digest.update(unit.passage_id.encode() + b"\0" + unit.text.encode() + b"\0")
    return digest.hexdigest()[:20]


class Verifier:
    """The claim -> verdict pipeline over evidence units already loaded into `store` (row id = unit index)."""

    def __init__(
        self,
        embedder: Embedder,
        nli: NliModel,
        store: VectorStore,
        units: Sequence[EvidenceUnit],
        *,
        top_k: int = 5,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self.embedder = embedder
        self.nli = nli
        self.store = store
        self.units = list(units)
        self.top_k = top_k
        self.threshold = threshold
        self._process = psutil.Process()

    def _cost(self, stage: str, started: float) -> StageCost:
        return StageCost(stage, time.perf_counter() - started, self._process.memory_info().rss)

    def verify(self, claim: str) -> Verdict:
        """Verify one claim end to end."""
        return next(iter(self.verify_many([claim])))

    def verify_many(self, claims: Iterable[str]) -> Iterator[Verdict]:
        """Verify claims one at a time, yielding each verdict as soon as it is ready."""
        for claim in claims:
            if not isinstance(claim, str) or not claim.strip():
                raise InputError("claim is empty or whitespace; give a sentence to check")
            started = time.perf_counter()
            encoded = self.embedder.encode([claim])
            embed = self._cost("embed", started)

            started = time.perf_counter()
            hits: list[SearchHit] = self.store.search(encoded.vectors[0], self.top_k)
            retrieve = self._cost("retrieve", started)

            started = time.perf_counter()
            evidence: tuple[EvidenceScore, ...] = ()
            nli_truncated = 0
            if hits:
                units = [self.units[hit.id] for hit in hits]
                result = self.nli.predict([(unit.text, claim) for unit in units])
                nli_truncated = result.truncated
                evidence = tuple(
                    EvidenceScore(unit.passage_id, unit.text, round(hit.score, 6), *(round(float(p), 6) for p in probs))
                    for unit, hit, probs in zip(units, hits, result.probs, strict=True)
                )
            nli = self._cost("nli", started)
            label, confidence = decide(evidence, self.threshold)
            yield Verdict(
                claim=claim,
                verdict=label,
                confidence=round(confidence, 6),
                evidence=evidence,
                stages=(embed, retrieve, nli),
                truncated_tokens=bool(encoded.truncated or nli_truncated),
            )


def embed_units(embedder: Embedder, units: Sequence[EvidenceUnit], *, show_progress: bool = False) -> np.ndarray:
    """Embeddings of every evidence unit, in corpus order."""
    return embedder.encode([u.text for u in units], show_progress=show_progress).vectors
