"""End to end: claim -> embed -> HNSW top-5 -> NLI -> verdict, per claim and for the shipped claim set."""

from __future__ import annotations

import contextlib
import functools
import itertools

import numpy as np

from benchmarks.common import Timed, Tracked, descriptive, require_cuda, settings
from benchmarks.database import database_dsn, dated_prefix, keep_table
from benchmarks.memory import PHASES, pipeline_phase_bytes
from benchmarks.models import embedder, nli_model
from benchmarks.run_cache import once_per_run
from veracity.data import load_claims
from veracity.pipeline.evaluate import score
from veracity.pipeline.pgvector_store import PgVectorStore
from veracity.pipeline.session import cached_corpus_vectors, corpus_units, open_store
from veracity.pipeline.store import IndexSpec
from veracity.pipeline.verify import Verifier
from veracity.tracking.direction import higher_is_better, lower_is_better

TOP_K = 5
STAGES = ("embed", "retrieve", "nli")


class VerifyClaims(Timed):
    """One claim at a time as a user sends them, and the whole shipped set measured once per run."""

    timeout = 60

    def setup(self) -> None:
        self.row = claim_set_row()
        self.verifier = attached_verifier(self.row["schema"])
        self.claims = itertools.cycle([c.claim for c in load_claims()])
        self.verifier.verify(next(self.claims))  # warm the prepared statement and allocator

    def teardown(self) -> None:
        self.verifier.store.close()

    def time_verify_claim(self) -> None:
        self.verifier.verify(next(self.claims))

    @lower_is_better("seconds")
    def track_claim_set_seconds(self) -> float:
        return self.row["set_seconds"]

    @lower_is_better("ms")
    def track_claim_latency_p50(self) -> float:
        return self.row["p50_ms"]

    @lower_is_better("ms")
    def track_claim_latency_p95(self) -> float:
        return self.row["p95_ms"]

    @higher_is_better("ratio")
    def track_verdict_accuracy(self) -> float:
        return self.row["accuracy"]

    @higher_is_better("ratio")
    def track_evidence_recall(self) -> float:
        return self.row["evidence_recall"]

    @descriptive("ratio")  # the shares sum to 1: one stage getting faster raises the others'
    def track_stage_share_embed(self) -> float:
        return self.row["share_embed"]

    @descriptive("ratio")  # the shares sum to 1: one stage getting faster raises the others'
    def track_stage_share_retrieve(self) -> float:
        return self.row["share_retrieve"]

    @descriptive("ratio")  # the shares sum to 1: one stage getting faster raises the others'
    def track_stage_share_nli(self) -> float:
        return self.row["share_nli"]


class PipelineMemory(Tracked):
    """Peak RSS of a whole run, and the memory each phase adds on its own: measured in fresh
    interpreters in a fixed order (`benchmarks.memory`), resident or traced as `PHASES` says."""

    timeout = 300  # the first phase asked waits for three fresh interpreters (~45 s idle, 2-3x that busy)

    def peakmem_claim_set(self) -> None:
        run_claim_set()

    @lower_is_better("bytes")
    def track_phase_bytes(self, phase: str) -> int:
        return pipeline_phase_bytes()[phase]

    track_phase_bytes.params = list(PHASES)
    track_phase_bytes.param_names = ["phase"]


class VerifyClaimsCuda(Timed):
    """One claim end to end with both models on a CUDA GPU (the search stays in PostgreSQL),
    synchronised before the timer stops; GPU peak memory of one claim. Skipped without a GPU."""

    def setup(self) -> None:
        require_cuda()
        import torch

        self.torch = torch
        self.verifier = attached_verifier(claim_set_row()["schema"], device="cuda")
        self.claims = itertools.cycle([c.claim for c in load_claims()])
        self.verifier.verify(next(self.claims))

    def teardown(self) -> None:
        if hasattr(self, "verifier"):  # setup skipped (no GPU): nothing to close
            self.verifier.store.close()

    def time_verify_claim(self) -> None:
        self.verifier.verify(next(self.claims))
        self.torch.cuda.synchronize()

    @lower_is_better("bytes")
    def track_gpu_peak_bytes(self) -> int:
        self.torch.cuda.reset_peak_memory_stats()
        self.verifier.verify(next(self.claims))
        self.torch.cuda.synchronize()
        return int(self.torch.cuda.max_memory_allocated())


@functools.cache
def corpus_vectors() -> np.ndarray:
    return cached_corpus_vectors(embedder(), settings().cache_dir)


def open_verifier(stack: contextlib.ExitStack) -> Verifier:
    """A Verifier over the shipped corpus in a fresh schema that `stack` drops again."""
    run_settings = settings().with_overrides(database_url=database_dsn(), top_k=TOP_K)
    store = stack.enter_context(open_store(run_settings, corpus_vectors()))
    return Verifier(embedder(), nli_model(), store, corpus_units(), top_k=TOP_K)


def kept_store() -> str:
    """Load the corpus once per run into a kept benchmark schema (`dated_prefix`); returns its name.

    asv runs `setup` before every repeat: attaching to this table costs a connection, where
    loading it and building its HNSW index would cost seconds each time.
    """
    vectors = corpus_vectors()
    store = PgVectorStore(database_dsn(), vectors.shape[1], IndexSpec("hnsw"), schema_prefix=dated_prefix())
    store.load(np.arange(len(vectors)), vectors)
    keep_table(store)
    return store.schema


def attached_verifier(schema: str, device: str = "cpu") -> Verifier:
    store = PgVectorStore(database_dsn(), embedder().dim, IndexSpec("hnsw"), attach=schema)
    return Verifier(embedder(device), nli_model(device), store, corpus_units(), top_k=TOP_K)


def run_claim_set(verifier: Verifier | None = None) -> dict[str, float]:
    """Every shipped claim through the pipeline: accuracy, latency percentiles and stage shares."""
    claims = load_claims()
    with contextlib.ExitStack() as stack:
        verifier = verifier or open_verifier(stack)
        verdicts = list(verifier.verify_many(c.claim for c in claims))
    report = score(claims, verdicts)
    stage_seconds = {s: sum(st.seconds for v in verdicts for st in v.stages if st.stage == s) for s in STAGES}
    total = sum(stage_seconds.values())
    return {
        "accuracy": report.accuracy,
        "evidence_recall": report.evidence_recall,
        "p50_ms": report.p50_ms,
        "p95_ms": report.p95_ms,
        "set_seconds": total,
        **{f"share_{s}": stage_seconds[s] / total for s in STAGES},
    }


def claim_set_row() -> dict:
    """The kept store's schema and the shipped claim set's figures, measured once per run."""
    schema = once_per_run("pipeline.kept_store", lambda: {"schema": kept_store()})["schema"]
    return once_per_run("pipeline.claim_set", lambda: {"schema": schema, **run_claim_set(attached_verifier(schema))})
