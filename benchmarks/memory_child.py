"""The fresh interpreter that memory by phase is measured in: one run of the pipeline, phase by phase.

Run as `python -m benchmarks.memory_child WHAT` by `benchmarks.memory.run_child`, never by asv (it
has no benchmarks), with the allocator settings of `benchmarks.memory.MEASURE_ENV`. It imports the
heavy libraries (imports are not any phase's memory) and builds the default NLI model if it is
missing (training is not loading). Then WHAT is `embedding` or `nli`: that model's load alone;
`pipeline`: the phases of one pipeline run in a fixed order, each measured alone
(`benchmarks.memory.PHASES` says how); or `batches`: one batch through each loaded model after a
warm-up batch, as `EmbeddingMemory` and `NliMemory` set up. It prints one JSON line: {phase: bytes}.

Every phase runs in the same history in every run: nothing the asv forkserver or an earlier
benchmark did reaches this process, so what a phase adds depends on the code alone.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable

import benchmarks.common  # noqa: F401  (one thread, offline hub, torch imported: before any phase)
from benchmarks.common import settings
from benchmarks.memory import PHASES, resident_peak_bytes, traced_peak_bytes
from veracity.config import Settings

TOP_K = 5
VERIFIED_CLAIMS = 40
ENCODE_BATCH = 64  # embedding.EmbeddingMemory's batch
PREDICT_BATCH = 16  # nli.NliMemory's batch


def measure(phase: str, fn: Callable[[], object]) -> int:
    """`fn`'s cost as `PHASES[phase]` says: resident (kernel high-water mark) or traced (tracemalloc)."""
    return resident_peak_bytes(fn) if PHASES[phase] == "resident" else traced_peak_bytes(fn)


def build_nli_if_missing(run_settings: Settings) -> None:
    from veracity.config import DEFAULT_NLI_MODEL
    from veracity.pipeline.nli_training import build_default_nli

    if run_settings.nli_model == DEFAULT_NLI_MODEL:
        build_default_nli(run_settings.cache_dir, show_progress=False)


def model_load(which: str) -> dict[str, int]:
    """One model's load in this fresh interpreter: it depends on that model's loading code alone."""
    from veracity.pipeline import session

    build_nli_if_missing(settings())
    if which == "embedding":
        return {"load_embedder": measure("load_embedder", lambda: session.load_embedder(settings()))}
    return {"load_nli": measure("load_nli", lambda: session.load_nli(settings()))}


def pipeline_run(stack: contextlib.ExitStack) -> dict[str, int]:
    """Both models loaded (their loads are measured alone, by `model_load`), then the phases of a run
    after them, in run order, each measured: the corpus vectors, the store, 40 claims verified."""
    from benchmarks.database import database_dsn
    from veracity.data import load_claims
    from veracity.pipeline import session
    from veracity.pipeline.verify import Verifier

    run_settings = settings().with_overrides(database_url=database_dsn(), top_k=TOP_K)
    build_nli_if_missing(run_settings)
    units = session.corpus_units()  # parsing the shipped corpus is no phase of a run's memory
    claims = [c.claim for c in load_claims()[:VERIFIED_CLAIMS]]
    embedder, nli = session.load_embedder(run_settings), session.load_nli(run_settings)
    kept: dict[str, object] = {}
    bytes_by_phase = {
        "corpus_vectors": measure(
            "corpus_vectors",
            lambda: kept.update(vectors=session.cached_corpus_vectors(embedder, run_settings.cache_dir)),
        )
    }

    def load_store() -> None:
        store = stack.enter_context(session.open_store(run_settings, kept["vectors"]))
        kept["verifier"] = Verifier(embedder, nli, store, units, top_k=TOP_K)

    bytes_by_phase["load_store"] = measure("load_store", load_store)
    verifier = kept["verifier"]
    bytes_by_phase["verify_40_claims"] = measure("verify_40_claims", lambda: list(verifier.verify_many(claims)))
    return bytes_by_phase


def batches() -> dict[str, int]:
    """One batch through each model, loaded and warmed by one batch first: what a steady batch adds."""
    from benchmarks.models import embedder, mixed_pairs, nli_model, short_texts  # loads both models

    encoder = embedder()
    encoder.batch_size = ENCODE_BATCH
    texts = list(short_texts(ENCODE_BATCH))
    encoder.encode(texts)
    measured = {"encode_batch": resident_peak_bytes(lambda: encoder.encode(texts))}
    classifier = nli_model()
    classifier.batch_size = PREDICT_BATCH
    pairs = list(mixed_pairs(PREDICT_BATCH))
    classifier.predict(pairs)
    measured["predict_batch"] = resident_peak_bytes(lambda: classifier.predict(pairs))
    return measured


def main(what: str) -> int:
    with contextlib.ExitStack() as stack:
        if what == "pipeline":
            measured = pipeline_run(stack)
        elif what == "batches":
            measured = batches()
        else:
            measured = model_load(what)
        print(json.dumps(measured), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
