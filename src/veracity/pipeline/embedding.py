"""Sentence embedding with sentence-transformers: normalised float32 vectors, batched by length."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from veracity.config import DEFAULT_EMBEDDING_MODEL, check_backend, default_cache_dir
from veracity.pipeline.backends.forward import TORCH, BackendInfo, Forward, OnnxSource, prepare_backend
from veracity.pipeline.backends.quality import GateRecord
from veracity.pipeline.flops import EncoderShape
from veracity.pipeline.models import device_or_error, hub_offline, load_error, resolve_model
from veracity.pipeline.progress import progress_bar
from veracity.pipeline.textcheck import check_texts


@dataclass(frozen=True)
class EncodeResult:
    """Embeddings plus what it took: tokens per text (after truncation) and how many were cut."""

    vectors: np.ndarray
    token_counts: np.ndarray
    truncated: int


class Embedder:
    """A SentenceTransformer behind a small, typed interface.

    Tokenization and length-sorted batching are the same for every backend; only the forward
    pass differs: the torch model, or an ONNX Runtime session on a graph exported from it
    (`backend` "onnx-fp32", "onnx-int8" or "fast", CPU only, cached under `cache_dir`).
    `backend_info` says which one runs and, for int8, how it compared with torch.
    """

    def __init__(
        self,
        model: str = DEFAULT_EMBEDDING_MODEL,
        *,
        device: str = "cpu",
        batch_size: int = 64,
        backend: str = "torch",
        cache_dir: Path | None = None,
        show_progress: bool = False,
    ) -> None:
        hub_offline()
        check_backend(backend, device=device, setting="embedding backend")
        path = resolve_model(model)
        self.name = model
        self.device = device_or_error(device)
        self.batch_size = batch_size
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(path, device=self.device)
        except Exception as exc:  # ST raises OSError, ValueError or HF errors for a bad model
            raise load_error(model, exc) from None
        self._model.eval()
        self.tokenizer = self._model.tokenizer
        self.max_seq_length = int(self._model.max_seq_length)
        self.dim = int(self._model.get_embedding_dimension())
        self.shape = EncoderShape.from_config(self._model[0].auto_model.config)
        self.backend_info: BackendInfo = TORCH
        self._forward: Forward = self.torch_forward
        if backend != "torch":
            from veracity.pipeline.backends.export import export_embedding
            from veracity.pipeline.backends.runtime import OnnxForward

            export = partial(export_embedding, self._model)
            source = OnnxSource("embedding", path, export, self._judge_onnx, self._calibrate_onnx)
            self.backend_info = prepare_backend(
                source, backend, cache_dir or default_cache_dir(), show_progress=show_progress
            )
            self._forward = OnnxForward(self.backend_info.model_file)

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens each text would use, special tokens included, before truncation."""
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
        return np.fromiter((len(ids) for ids in encoded["input_ids"]), dtype=np.int64, count=len(texts))

    def _judge_onnx(self, model_file: Path) -> GateRecord:
        """Gate an ONNX model of this embedder against its torch forward pass on the shipped corpus."""
        from veracity.data import load_corpus
        from veracity.pipeline.backends.quality import GATE_PASSAGES, embedding_gate
        from veracity.pipeline.backends.runtime import OnnxForward

        texts = [passage.text for passage in load_corpus()[:GATE_PASSAGES]]
        reference = self.encode(texts, forward=self.torch_forward).vectors
        return embedding_gate(reference, self.encode(texts, forward=OnnxForward(model_file)).vectors)

    def _calibrate_onnx(self, forward: Forward) -> None:
        """Run corpus passages the gate does not use through `forward`, in this embedder's batches."""
        from veracity.data import load_corpus
        from veracity.pipeline.backends.quality import CALIBRATION_SIZE, GATE_PASSAGES

        passages = load_corpus()[GATE_PASSAGES : GATE_PASSAGES + CALIBRATION_SIZE]
        self.encode([passage.text for passage in passages], forward=forward)

    def torch_forward(self, features: Mapping[str, Any]) -> np.ndarray:
        """The SentenceTransformer's own forward pass: unit-length float32 rows."""
        import torch

        on_device = {k: v.to(self.device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}
        embeddings = self._model(on_device)["sentence_embedding"]
        return torch.nn.functional.normalize(embeddings, p=2, dim=1).float().cpu().numpy()

    def encode(
        self, texts: Sequence[str], *, show_progress: bool = False, forward: Forward | None = None
    ) -> EncodeResult:
        """Embed `texts` (non-empty strings) into L2-normalised float32 rows, in input order.

        `forward` replaces this embedder's forward pass for the call (same tokens, same batches):
        how a fast path is compared with `torch_forward`.
        """
        check_texts(texts, what="text")
        forward = forward or self._forward
        counts = self.token_counts(texts)
        truncated = int((counts > self.max_seq_length).sum())
        # Batches of texts sorted by token count, not by characters as sentence-transformers does:
        # on the shipped claims that cuts padding from ~25% of the real tokens to ~7-13%.
        order = np.argsort(-np.minimum(counts, self.max_seq_length), kind="stable")
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        starts = range(0, len(texts), self.batch_size)
        import torch

        with torch.inference_mode():
            for start in progress_bar(starts, enabled=show_progress, desc="embedding", unit="batch"):
                idx = order[start : start + self.batch_size]
                vectors[idx] = forward(self._model.preprocess([texts[i] for i in idx]))
        return EncodeResult(
            vectors=vectors,
            token_counts=np.minimum(counts, self.max_seq_length),
            truncated=truncated,
        )

    def flops(self, token_counts: np.ndarray) -> int:
        """Useful FLOPs of encoding texts with these (truncated) token counts."""
        return self.shape.total_flops(token_counts.tolist())
