"""Sentence embedding with sentence-transformers: normalised float32 vectors, batched by length."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from veracity.config import DEFAULT_EMBEDDING_MODEL
from veracity.flops import EncoderShape
from veracity.models import device_or_error, hub_offline, load_error, resolve_model
from veracity.progress import progress_bar
from veracity.textcheck import check_texts


@dataclass(frozen=True)
class EncodeResult:
    """Embeddings plus what it took: tokens per text (after truncation) and how many were cut."""

    vectors: np.ndarray
    token_counts: np.ndarray
    truncated: int


class Embedder:
    """A SentenceTransformer behind a small, typed interface."""

    def __init__(self, model: str = DEFAULT_EMBEDDING_MODEL, *, device: str = "cpu", batch_size: int = 64) -> None:
        hub_offline()
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

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        """Tokens each text would use, special tokens included, before truncation."""
        encoded = self.tokenizer(list(texts), add_special_tokens=True, truncation=False, verbose=False)
        return np.fromiter((len(ids) for ids in encoded["input_ids"]), dtype=np.int64, count=len(texts))

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> EncodeResult:
        """Embed `texts` (non-empty strings) into L2-normalised float32 rows, in input order."""
        check_texts(texts, what="text")
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
                vectors[idx] = self._model.encode(
                    [texts[i] for i in idx],
                    batch_size=len(idx),
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
        return EncodeResult(
            vectors=vectors,
            token_counts=np.minimum(counts, self.max_seq_length),
            truncated=truncated,
        )

    def flops(self, token_counts: np.ndarray) -> int:
        """Useful FLOPs of encoding texts with these (truncated) token counts."""
        return self.shape.total_flops(token_counts.tolist())
