"""NLI cross-encoder: pairs/s by batch size, sorted vs unsorted batching, latency, accuracy and F1, memory."""

from __future__ import annotations

from benchmarks.common import Timed, Tracked, require_cuda
from benchmarks.memory import batch_bytes, subprocess_load_bytes
from benchmarks.metric_shim import ConfusionMatrix
from benchmarks.models import BENCH_BACKENDS, held_out_pairs, mixed_pairs, nli_model
from benchmarks.run_cache import once_per_run
from benchmarks.timing import best_rate, latencies_ms, percentiles
from benchmarks.yardsticks import matmul_gflops
from veracity.data import NLI_LABELS
from veracity.tracking.direction import higher_is_better, lower_is_better

PAIRS = 64
LATENCY_PAIRS = 40


class NliThroughput(Tracked):
    """Pairs per second on the mixed-length set, length-sorted batches of 8 to 64."""

    params = [8, 16, 32, 64]
    param_names = ["batch_size"]

    def setup(self, batch_size: int) -> None:
        self.model = nli_model()
        self.model.batch_size = batch_size
        self.pairs = list(mixed_pairs(PAIRS))

    @higher_is_better("pairs/s")
    def track_pairs_per_second(self, batch_size: int) -> float:
        return best_rate(len(self.pairs), lambda: self.model.predict(self.pairs), repeats=2)


class NliBatching(Timed):
    """The same 64 mixed-length pairs: length-sorted dynamic batches of at most 16, or fixed batches of 16
    in arrival order."""

    params = ["sorted", "unsorted"]
    param_names = ["batching"]
    # Four rounds of Timed's 4-10 samples (Timed has two): a call takes ~1-2 s, and this VM's speed
    # drifts over seconds, so a commit's median over two short windows could sit a slow phase off
    # its twin's (seen: the baseline 2-3% slow in two of six detection trials, which hid a +5%
    # plant). Paired A/A bands calibrated here (4-5 twin pairs each): two rounds of four 4.0%,
    # four rounds of two 8.1%, four rounds of four 1.8%. Cost: ~30 s more per commit.
    rounds = 4

    def setup(self, batching: str) -> None:
        self.model = nli_model()
        self.model.batch_size = 16
        self.pairs = list(mixed_pairs(PAIRS))
        self.sort = batching == "sorted"

    def time_predict(self, batching: str) -> None:
        self.model.predict(self.pairs, sort_by_length=self.sort)


class NliBackends(Tracked):
    """Each forward pass on its own: pairs/s on the mixed-length set (batch 16) and held-out accuracy
    beside it, so a faster path that costs accuracy shows both."""

    params = BENCH_BACKENDS
    param_names = ["backend"]
    timeout = 120  # the first run of `fast` exports, quantizes and gates the model (cached after)

    def setup(self, backend: str) -> None:
        self.model = nli_model(backend=backend)
        self.model.batch_size = 16
        self.pairs = list(mixed_pairs(PAIRS))

    @higher_is_better("pairs/s")
    def track_pairs_per_second(self, backend: str) -> float:
        return best_rate(len(self.pairs), lambda: self.model.predict(self.pairs), repeats=2)

    @higher_is_better("ratio")
    def track_held_out_accuracy(self, backend: str) -> float:
        return held_out_accuracy(self.model)


class NliLatency(Tracked):
    """Latency of one (evidence, claim) pair at a time, as an interactive caller sees it."""

    def setup(self) -> None:
        self.row = once_per_run("nli.pair_latency", pair_latencies)

    @lower_is_better("ms")
    def track_pair_latency_p50(self) -> float:
        return self.row["p50"]

    @lower_is_better("ms")
    def track_pair_latency_p95(self) -> float:
        return self.row["p95"]

    @lower_is_better("ms")
    def track_pair_latency_p99(self) -> float:
        return self.row["p99"]


class NliQuality(Tracked):
    """Accuracy, macro-F1 and F1 per label on held-out template groups, and the share of the matmul rate
    the model reaches."""

    def setup(self, *params: str) -> None:
        self.model = nli_model()
        self.model.batch_size = 16

    @higher_is_better("ratio")
    def track_held_out_accuracy(self) -> float:
        return held_out_accuracy(self.model)

    @higher_is_better("ratio")
    def track_held_out_macro_f1(self) -> float:
        return held_out_matrix().macro_f1()

    @higher_is_better("ratio")
    def track_held_out_class_f1(self, label: str) -> float:
        return held_out_matrix().f1(label)

    track_held_out_class_f1.params = list(NLI_LABELS)
    track_held_out_class_f1.param_names = ["label"]

    @higher_is_better("ratio")
    def track_efficiency(self) -> float:
        """Achieved FLOP/s from real token counts (sorted batches) over the 1-thread matmul rate."""
        pairs = list(mixed_pairs(PAIRS))
        flops = self.model.flops(self.model.predict(pairs).token_counts)
        return best_rate(flops, lambda: self.model.predict(pairs), repeats=2) / 1e9 / matmul_gflops()


class NliMemory(Tracked):
    """Memory of each phase alone: loading the model (fresh process) and one batch of 16 pairs."""

    def setup(self) -> None:
        self.model = nli_model()
        self.model.batch_size = 16
        self.pairs = list(mixed_pairs(16))
        self.model.predict(self.pairs)

    @lower_is_better("bytes")
    def track_model_load_bytes(self) -> int:
        return subprocess_load_bytes("nli")

    @lower_is_better("bytes")
    def track_predict_batch_bytes(self) -> int:
        return batch_bytes("predict_batch")  # a fresh interpreter, warmed the same way (benchmarks.memory)

    def peakmem_predict_batch(self) -> None:
        self.model.predict(self.pairs)


class NliCuda(Timed):
    """Batches of 32 pairs on a CUDA GPU, synchronised before the timer stops; skipped without a GPU."""

    def setup(self) -> None:
        require_cuda()
        import torch

        self.torch = torch
        self.model = nli_model("cuda")
        self.model.batch_size = 32
        self.pairs = list(mixed_pairs(PAIRS))
        self.model.predict(self.pairs)

    def time_predict(self) -> None:
        self.model.predict(self.pairs)
        self.torch.cuda.synchronize()

    @lower_is_better("bytes")
    def track_gpu_peak_bytes(self) -> int:
        self.torch.cuda.reset_peak_memory_stats()
        self.model.predict(self.pairs)
        self.torch.cuda.synchronize()
        return int(self.torch.cuda.max_memory_allocated())


def pair_latencies() -> dict[str, float]:
    """p50/p95/p99 of one pair at a time over LATENCY_PAIRS mixed-length pairs."""
    model = nli_model()
    pairs = list(mixed_pairs(LATENCY_PAIRS, seed=1))
    position = iter(range(10**9))
    samples = latencies_ms(lambda: model.predict([pairs[next(position) % len(pairs)]]), LATENCY_PAIRS)
    return percentiles(samples)


def held_out_accuracy(model) -> float:
    pairs = held_out_pairs()
    predicted = model.predict([(p.premise, p.hypothesis) for p in pairs]).labels()
    return sum(label == p.label for label, p in zip(predicted, pairs, strict=True)) / len(pairs)


def held_out_matrix() -> ConfusionMatrix:
    """The default model's confusion matrix on the held-out pairs, predicted once per run."""

    def predict() -> dict[str, list[str]]:
        model = nli_model()
        model.batch_size = 16
        return {"predicted": model.predict([(p.premise, p.hypothesis) for p in held_out_pairs()]).labels()}

    predicted = once_per_run("nli.held_out_labels", predict)["predicted"]
    return ConfusionMatrix.from_labels([p.label for p in held_out_pairs()], predicted, NLI_LABELS)
