"""NLI cross-encoder: entailment / neutral / contradiction probabilities for (premise, hypothesis) pairs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from veracity.config import check_backend, default_cache_dir
from veracity.data import NLI_LABELS
from veracity.errors import ModelNotFoundError
from veracity.pipeline.backends.forward import TORCH, BackendInfo, Forward, OnnxSource, prepare_backend
from veracity.pipeline.backends.quality import GateRecord
from veracity.pipeline.batching import CPU_BATCH_OVERHEAD_TOKENS, fixed_batches, length_sorted_batches
from veracity.pipeline.flops import EncoderShape
from veracity.pipeline.models import device_or_error, hub_offline, load_error, resolve_model
from veracity.pipeline.progress import progress_bar
from veracity.pipeline.textcheck import check_texts

MAX_PAIR_TOKENS = 256


@dataclass(frozen=True)
class NliResult:
    """Probabilities in `NLI_LABELS` order, one row per pair, plus tokens used and pairs truncated."""

    probs: np.ndarray
    token_counts: np.ndarray
    truncated: int

    def labels(self) -> list[str]:
        """The most probable label of each pair."""
        return [NLI_LABELS[i] for i in self.probs.argmax(axis=1)]


def label_permutation(id2label: dict[int, str]) -> list[int]:
    """Model output index for each of our labels, matched by name (models order them differently)."""
    names = {int(i): str(name).lower() for i, name in id2label.items()}
    order = []
    for ours in NLI_LABELS:
        matches = [i for i, name in names.items() if name.startswith(ours[:7])]
        if len(matches) != 1:
            raise ModelNotFoundError(
                f"the NLI model's labels {sorted(names.values())} do not name {ours!r} exactly once; "
                "use a 3-way NLI cross-encoder (entailment, neutral, contradiction)"
            )
        order.append(matches[0])
    return order


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of float32 logits."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


class NliModel:
    """A sequence-classification cross-encoder run in length-sorted batches.

    As for `Embedder`, `backend` changes only the forward pass: the torch model, or an ONNX
    Runtime session on a graph exported from it ("onnx-fp32", "onnx-int8", "fast"; CPU only).
    """

    def __init__(
        self,
        model: str,
        *,
        device: str = "cpu",
        batch_size: int = 16,
        backend: str = "torch",
        cache_dir: Path | None = None,
        show_progress: bool = False,
    ) -> None:
        hub_offline()
        check_backend(backend, device=device, setting="nli backend")
        path = resolve_model(model)
        self.name = model
        self.device = device_or_error(device)
        self.batch_size = batch_size
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path)
            self._model = AutoModelForSequenceClassification.from_pretrained(path)
        except Exception as exc:  # transformers raises OSError/ValueError/HF errors for a bad model
            raise load_error(model, exc) from None
        self._model.to(self.device).eval()
        self._order = label_permutation(self._model.config.id2label)
        self.max_length = min(MAX_PAIR_TOKENS, int(getattr(self.tokenizer, "model_max_length", MAX_PAIR_TOKENS)))
        self.shape = EncoderShape.from_config(self._model.config)
        self.path = Path(path) if Path(path).exists() else None
        self.backend_info: BackendInfo = TORCH
        self._forward: Forward = self.torch_forward
        if backend != "torch":
            from veracity.pipeline.backends.export import export_classifier
            from veracity.pipeline.backends.runtime import OnnxForward

            export = partial(export_classifier, self._model, self.tokenizer)
            source = OnnxSource("nli", path, export, self._judge_onnx, self._calibrate_onnx)
            self.backend_info = prepare_backend(
                source, backend, cache_dir or default_cache_dir(), show_progress=show_progress
            )
            self._forward = OnnxForward(self.backend_info.model_file)

    def _judge_onnx(self, model_file: Path) -> GateRecord:
        """Gate an ONNX model of this classifier against its torch forward pass on the held-out labelled pairs."""
        from veracity.data import load_nli_pairs
        from veracity.pipeline.backends.quality import nli_gate
        from veracity.pipeline.backends.runtime import OnnxForward

        held_out = load_nli_pairs("test")
        pairs = [(p.premise, p.hypothesis) for p in held_out]
        reference = self.predict(pairs, forward=self.torch_forward).labels()
        candidate = self.predict(pairs, forward=OnnxForward(model_file)).labels()
        return nli_gate(reference, candidate, [p.label for p in held_out])

    def _calibrate_onnx(self, forward: Forward) -> None:
        """Run training pairs (never the held-out ones the gate uses) through `forward`."""
        from veracity.data import load_nli_pairs
        from veracity.pipeline.backends.quality import CALIBRATION_SIZE

        pairs = load_nli_pairs("train")[:CALIBRATION_SIZE]
        self.predict([(p.premise, p.hypothesis) for p in pairs], forward=forward)

    def torch_forward(self, batch: Mapping[str, Any]) -> np.ndarray:
        """The torch model's logits (in the model's own label order) as float32."""
        import torch

        on_device = {k: v.to(self.device) for k, v in batch.items() if isinstance(v, torch.Tensor)}
        return self._model(**on_device).logits.float().cpu().numpy()

    def predict(
        self,
        pairs: Sequence[tuple[str, str]],
        *,
        sort_by_length: bool = True,
        show_progress: bool = False,
        forward: Forward | None = None,
    ) -> NliResult:
        """Classify (premise, hypothesis) pairs; sorting by length cuts padding, order is restored.

        Sorted, the pairs run in dynamic batches of at most `batch_size` cut by length (see
        `length_sorted_batches`) on CPU, and in full batches of the sorted order on a GPU, where
        padding is cheap and each forward pass is not. Unsorted, in fixed batches of arrival order.
        `forward` replaces this model's forward pass for the call (same tokens, same batches):
        how a fast path is compared with `torch_forward`.
        """
        forward = forward or self._forward
        premises = [p for p, _ in pairs]
        hypotheses = [h for _, h in pairs]
        check_texts(premises, what="premise")
        check_texts(hypotheses, what="hypothesis")
        import torch

        encoded = self.tokenizer(premises, hypotheses, truncation=False, verbose=False)
        full = np.fromiter((len(ids) for ids in encoded["input_ids"]), dtype=np.int64, count=len(pairs))
        truncated = int((full > self.max_length).sum())
        probs = np.empty((len(pairs), len(NLI_LABELS)), dtype=np.float32)
        with torch.inference_mode():
            for idx in progress_bar(
                self._batches(full, sort_by_length), enabled=show_progress, desc="nli", unit="batch"
            ):
                batch = self.tokenizer(
                    [premises[i] for i in idx],
                    [hypotheses[i] for i in idx],
                    padding=True,
                    truncation="longest_first" if truncated else False,
                    max_length=self.max_length if truncated else None,
                    return_tensors="pt",
                )
                probs[idx] = softmax(forward(batch))[:, self._order]
        return NliResult(probs=probs, token_counts=np.minimum(full, self.max_length), truncated=truncated)

    def _batches(self, lengths: np.ndarray, sort_by_length: bool) -> list[np.ndarray]:
        lengths = np.minimum(lengths, self.max_length)
        if not sort_by_length:
            return fixed_batches(np.arange(len(lengths)), self.batch_size)
        if self.device.startswith("cuda"):
            return fixed_batches(np.argsort(-lengths, kind="stable"), self.batch_size)
        return length_sorted_batches(lengths, self.batch_size, CPU_BATCH_OVERHEAD_TOKENS)

    def flops(self, token_counts: np.ndarray) -> int:
        """Useful FLOPs of classifying pairs with these (truncated) token counts."""
        return self.shape.total_flops(token_counts.tolist())
