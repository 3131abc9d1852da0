"""The embedding stage on the real shipped MiniLM: normalised, ordered, deterministic, honest about truncation."""

from __future__ import annotations

import numpy as np
import pytest

from veracity.errors import InputError, ModelNotFoundError
from veracity.pipeline.embedding import Embedder

pytestmark = pytest.mark.models


def test_vectors_are_unit_float32_rows(embedder: Embedder) -> None:
    result = embedder.encode(["The Bril flows through Vesford.", "Ships sail."])
    assert result.vectors.dtype == np.float32 and result.vectors.shape == (2, embedder.dim)
    np.testing.assert_allclose(np.linalg.norm(result.vectors, axis=1), 1.0, atol=1e-5)


def test_length_sorted_batching_keeps_input_order(embedder: Embedder) -> None:
    texts = ["short", "a much longer sentence about the founding of a fictional town " * 3, "mid length text here"]
    together = embedder.encode(texts).vectors
    one_by_one = np.vstack([embedder.encode([t]).vectors for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


def test_related_sentences_are_closer_than_unrelated(embedder: Embedder) -> None:
    v = embedder.encode(["Vesford was founded in 1642.", "The town of Vesford dates from 1642.", "Ships need sails."])
    assert v.vectors[0] @ v.vectors[1] > v.vectors[0] @ v.vectors[2] + 0.2


def test_overlong_text_is_truncated_and_counted(embedder: Embedder) -> None:
    result = embedder.encode(["word " * 2000, "short"])
    assert result.truncated == 1
    assert result.token_counts[0] == embedder.max_seq_length


@pytest.mark.parametrize("texts", [[""], ["fine", "   "], []])
def test_empty_or_blank_text_is_an_input_error(embedder: Embedder, texts: list[str]) -> None:
    with pytest.raises(InputError):
        embedder.encode(texts)


def test_unknown_model_path_is_a_model_not_found_error(tmp_path) -> None:
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        Embedder(str(tmp_path / "no-such-model"))


def test_uncached_hub_id_fails_offline_with_a_hint() -> None:
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE"):
        Embedder("veracity-test/definitely-not-a-cached-model")


def test_flops_use_real_token_counts(embedder: Embedder) -> None:
    counts = embedder.encode(["The Bril flows through Vesford."]).token_counts
    assert embedder.flops(counts) == embedder.shape.total_flops(counts.tolist()) > 0
