"""The serving path: concurrent claims batched across requests, on the real models and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import numpy as np
import pytest

from veracity.config import Settings
from veracity.data import load_claims
from veracity.errors import InputError
from veracity.pipeline.serving import DynamicBatcher, ServingPipeline, StorePool
from veracity.pipeline.serving_session import open_serving_pipeline
from veracity.pipeline.session import cached_corpus_vectors, corpus_units, open_store
from veracity.pipeline.store import ExactNumpyStore
from veracity.pipeline.verify import Verifier

CONCURRENT = 8


def test_a_batcher_carries_requests_that_arrive_within_its_window_in_one_call() -> None:
    calls: list[list[int]] = []
    batcher = DynamicBatcher(lambda xs: calls.append(list(xs)) or [x * 2 for x in xs], max_batch=4, window_s=5.0)
    futures = [batcher.submit(i) for i in range(4)]  # full at 4: closes without waiting out the window
    assert [f.result(timeout=2) for f in futures] == [0, 2, 4, 6]
    assert calls == [[0, 1, 2, 3]]
    assert batcher.stats.calls == 1 and batcher.stats.mean_batch == 4
    batcher.close()


def test_a_failing_batch_fails_its_requests_and_the_batcher_serves_on() -> None:
    def run(xs: list[int]) -> list[int]:
        if 0 in xs:
            raise ZeroDivisionError("planted")
        return xs

    batcher = DynamicBatcher(run, max_batch=1, window_s=0.0)
    with pytest.raises(ZeroDivisionError):
        batcher(0)
    assert batcher(7) == 7
    batcher.close()


@pytest.fixture(scope="module")
def numpy_parts(settings: Settings, embedder, nli_model) -> Iterator[tuple]:
    local = settings.with_overrides(store="numpy")
    with open_store(local, cached_corpus_vectors(embedder, settings.cache_dir)) as store:
        yield embedder, nli_model, store


def _serve_together(serving: ServingPipeline, claims: list[str]) -> list:
    """Submit every claim from its own thread at once, as concurrent web handlers would."""
    start = threading.Barrier(len(claims))
    out: list = [None] * len(claims)

    def handler(i: int) -> None:
        start.wait()
        out[i] = serving.verify(claims[i])

    threads = [threading.Thread(target=handler, args=(i,)) for i in range(len(claims))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


@pytest.mark.models
@pytest.mark.parametrize(("max_batch", "model_calls"), [(CONCURRENT, 1), (1, CONCURRENT)])
def test_concurrent_claims_share_one_model_call_per_stage(numpy_parts, max_batch: int, model_calls: int) -> None:
    embedder, nli, store = numpy_parts
    claims = [c.claim for c in load_claims()[:CONCURRENT]]
    # A window far longer than a claim takes: the batch closes when all 8 claims are in it.
    serving = ServingPipeline(
        embedder, nli, StorePool([store]), corpus_units(), max_batch=max_batch, window_s=30.0, workers=CONCURRENT
    )
    verdicts = _serve_together(serving, claims)
    serving.embed_batcher.close()
    serving.nli_batcher.close()
    assert [v.claim for v in verdicts] == claims
    assert serving.embed_batcher.stats.calls == model_calls
    assert serving.nli_batcher.stats.calls == model_calls
    assert serving.nli_batcher.stats.requests == CONCURRENT


@pytest.mark.models
@pytest.mark.db
@pytest.mark.slow
def test_served_verdicts_equal_the_single_claim_paths(settings: Settings, database_dsn: str) -> None:
    claims = [c.claim for c in load_claims()[::6]]  # 40 claims, every verdict
    local = settings.with_overrides(database_url=database_dsn)
    with open_serving_pipeline(local, window_s=0.02) as serving:
        # The single-claim Verifier on the same models and table (one HNSW build: its graph is random).
        table = serving.stores.stores[0]
        verifier = Verifier(serving.embedder, serving.nli, table, corpus_units(), top_k=serving.top_k)
        alone = list(verifier.verify_many(claims))
        futures = [serving.submit(claim) for claim in claims]
        served = [f.result() for f in futures]
        assert serving.nli_batcher.stats.mean_batch > 1  # they really were batched together
    for one, other in zip(alone, served, strict=True):
        assert other.verdict == one.verdict, one.claim
        assert [e.passage_id for e in other.evidence] == [e.passage_id for e in one.evidence]
        probs = np.array([[e.entailment, e.neutral, e.contradiction] for e in other.evidence])
        expected = np.array([[e.entailment, e.neutral, e.contradiction] for e in one.evidence])
        np.testing.assert_allclose(probs, expected, atol=1e-4)  # padding differs across batches, not the maths


@pytest.mark.models
def test_a_blank_claim_is_refused_before_it_is_queued(embedder, nli_model) -> None:
    pool = StorePool([ExactNumpyStore()])
    with ServingPipeline(embedder, nli_model, pool, corpus_units()) as serving, pytest.raises(InputError):
        serving.submit("   ")
