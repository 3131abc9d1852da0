"""The pipeline as a service calls it: concurrent claims sharing the models, batched across requests.

A web handler hands each claim to `ServingPipeline.submit` and waits on the future. Claims run on
a small thread pool; their embedding and NLI work goes through one `DynamicBatcher` per model,
which, like an inference server's dynamic batcher, gathers the requests that arrive within a short
window (or until a batch is full) into one model call. Retrieval takes a connection from a pool.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from veracity.errors import InputError
from veracity.pipeline.embedding import Embedder
from veracity.pipeline.evidence import EvidenceUnit
from veracity.pipeline.nli import NliModel
from veracity.pipeline.store import VectorStore
from veracity.pipeline.verify import DEFAULT_THRESHOLD, EvidenceScore, StageCost, Verdict, decide

Request = TypeVar("Request")
Result = TypeVar("Result")

# Requests (claims) one model call may carry, and how long the first request of a batch waits for
# others. 16 claims are 16 texts to embed and 80 pairs to classify (top 5): past that, a CPU
# forward pass gains nothing from a larger batch, and the wait is short beside a claim's ~60 ms.
DEFAULT_MAX_BATCH = 16
DEFAULT_WINDOW_S = 0.005
DEFAULT_WORKERS = 32
DEFAULT_CONNECTIONS = 4


@dataclass(frozen=True)
class BatchStats:
    """What a batcher did: model calls made and requests carried."""

    calls: int
    requests: int

    @property
    def mean_batch(self) -> float:
        return self.requests / self.calls if self.calls else 0.0


class DynamicBatcher(Generic[Request, Result]):
    """One thread that serves requests from many in batches: one `run_batch` call per batch.

    The first request of a batch waits at most `window_s` for others, and a batch closes early
    when it holds `max_batch` requests. `run_batch` gets the requests in arrival order and returns
    one result per request; an exception fails every request of that batch, not the batcher.
    """

    def __init__(
        self,
        run_batch: Callable[[list[Request]], Sequence[Result]],
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        window_s: float = DEFAULT_WINDOW_S,
        name: str = "batcher",
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be at least 1, got {max_batch}")
        self._run_batch = run_batch
        self.max_batch = max_batch
        self.window_s = window_s
        self._queue: queue.SimpleQueue[tuple[Request, Future[Result]] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._calls = 0
        self._requests = 0
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def submit(self, request: Request) -> Future[Result]:
        """Queue one request; its future completes when its batch has run."""
        future: Future[Result] = Future()
        self._queue.put((request, future))
        return future

    def __call__(self, request: Request) -> Result:
        return self.submit(request).result()

    @property
    def stats(self) -> BatchStats:
        with self._lock:
            return BatchStats(self._calls, self._requests)

    def close(self) -> None:
        """Finish the queued requests, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _gather(self, first: tuple[Request, Future[Result]]) -> tuple[list[tuple[Request, Future[Result]]], bool]:
        batch = [first]
        deadline = time.perf_counter() + self.window_s
        while len(batch) < self.max_batch:
            remaining = deadline - time.perf_counter()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
        return batch, False

    def _serve(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch, stopping = self._gather(first)
            live = [(request, future) for request, future in batch if future.set_running_or_notify_cancel()]
            if not live:
                continue
            with self._lock:
                self._calls += 1
                self._requests += len(live)
            try:
                results = self._run_batch([request for request, _ in live])
                if len(results) != len(live):
                    raise RuntimeError(f"batch of {len(live)} requests returned {len(results)} results")
            except BaseException as exc:  # handed to every waiting request; the batcher lives on
                for _, future in live:
                    future.set_exception(exc)
                continue
            for (_, future), result in zip(live, results, strict=True):
                future.set_result(result)


class StorePool:
    """Vector stores (one database connection each) lent to one thread at a time."""

    def __init__(self, stores: Sequence[VectorStore]) -> None:
        if not stores:
            raise ValueError("a store pool needs at least one store")
        self.stores = list(stores)
        self._free: queue.SimpleQueue[VectorStore] = queue.SimpleQueue()
        for store in self.stores:
            self._free.put(store)

    @contextlib.contextmanager
    def borrow(self) -> Iterator[VectorStore]:
        store = self._free.get()
        try:
            yield store
        finally:
            self._free.put(store)

    def close(self) -> None:
        for store in self.stores:
            store.close()


class ServingPipeline:
    """Claim -> verdict for many concurrent callers, as `Verifier` does for one.

    The models are shared: only the batchers' threads call them, so a model is never entered by
    two threads at once. `max_batch` 1 serves each claim's work through the model alone (no
    batching across requests), the configuration a single-stream test measures.
    """

    def __init__(
        self,
        embedder: Embedder,
        nli: NliModel,
        stores: StorePool,
        units: Sequence[EvidenceUnit],
        *,
        top_k: int = 5,
        threshold: float = DEFAULT_THRESHOLD,
        workers: int = DEFAULT_WORKERS,
        max_batch: int = DEFAULT_MAX_BATCH,
        window_s: float = DEFAULT_WINDOW_S,
    ) -> None:
        self.embedder = embedder
        self.nli = nli
        self.stores = stores
        self.units = list(units)
        self.top_k = top_k
        self.threshold = threshold
        self.embed_batcher: DynamicBatcher[str, tuple[np.ndarray, bool]] = DynamicBatcher(
            self._embed_batch, max_batch=max_batch, window_s=window_s, name="embed-batcher"
        )
        self.nli_batcher: DynamicBatcher[list[tuple[str, str]], tuple[np.ndarray, bool]] = DynamicBatcher(
            self._nli_batch, max_batch=max_batch, window_s=window_s, name="nli-batcher"
        )
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="claim")

    def _embed_batch(self, claims: list[str]) -> list[tuple[np.ndarray, bool]]:
        """Vectors of the claims, each with whether it reached the model's token limit (was cut)."""
        encoded = self.embedder.encode(claims)
        limit = self.embedder.max_seq_length
        return [(vector, bool(n >= limit)) for vector, n in zip(encoded.vectors, encoded.token_counts, strict=True)]

    def _nli_batch(self, requests: list[list[tuple[str, str]]]) -> list[tuple[np.ndarray, bool]]:
        """Every claim's pairs in one predict call (length-sorted across claims), split back per claim."""
        pairs = [pair for request in requests for pair in request]
        result = self.nli.predict(pairs)
        out, start = [], 0
        for request in requests:
            stop = start + len(request)
            out.append((result.probs[start:stop], bool((result.token_counts[start:stop] >= self.nli.max_length).any())))
            start = stop
        return out

    def submit(self, claim: str) -> Future[Verdict]:
        """Verify `claim` on the pool; the future holds its Verdict (stage times include queueing)."""
        if not isinstance(claim, str) or not claim.strip():
            raise InputError("claim is empty or whitespace; give a sentence to check")
        return self._pool.submit(self._verify, claim)

    def verify(self, claim: str) -> Verdict:
        return self.submit(claim).result()

    def _verify(self, claim: str) -> Verdict:
        started = time.perf_counter()
        vector, embed_truncated = self.embed_batcher(claim)
        embed = StageCost("embed", time.perf_counter() - started, 0)

        started = time.perf_counter()
        with self.stores.borrow() as store:
            hits = store.search(vector, self.top_k)
        retrieve = StageCost("retrieve", time.perf_counter() - started, 0)

        started = time.perf_counter()
        evidence: tuple[EvidenceScore, ...] = ()
        nli_truncated = False
        if hits:
            units = [self.units[hit.id] for hit in hits]
            probs, nli_truncated = self.nli_batcher([(unit.text, claim) for unit in units])
            evidence = tuple(
                EvidenceScore(unit.passage_id, unit.text, round(hit.score, 6), *(round(float(p), 6) for p in row))
                for unit, hit, row in zip(units, hits, probs, strict=True)
            )
        nli = StageCost("nli", time.perf_counter() - started, 0)
        label, confidence = decide(evidence, self.threshold)
        return Verdict(
            claim=claim,
            verdict=label,
            confidence=round(confidence, 6),
            evidence=evidence,
            stages=(embed, retrieve, nli),
            truncated_tokens=embed_truncated or nli_truncated,
        )

    def close(self) -> None:
        """Finish the claims in flight, stop the batchers and return the connections."""
        self._pool.shutdown(wait=True)
        self.embed_batcher.close()
        self.nli_batcher.close()
        self.stores.close()

    def __enter__(self) -> ServingPipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
