"""The exact numpy store is the ground truth, so it must match brute force exactly."""

from __future__ import annotations

import numpy as np
import pytest

from veracity.errors import ConfigError
from veracity.pipeline.store import ExactNumpyStore, IndexSpec, recall_at_k


def _unit_rows(n: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.mark.parametrize("metric", ["cosine", "ip", "l2"])
def test_search_many_matches_brute_force(metric: str) -> None:
    corpus, queries = _unit_rows(300, 16, 0), _unit_rows(7, 16, 1)
    store = ExactNumpyStore(metric)
    store.load(np.arange(300) + 1000, corpus)
    if metric == "l2":
        scores = -np.linalg.norm(queries[:, None, :] - corpus[None, :, :], axis=2)
    else:
        scores = queries @ corpus.T
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :5] + 1000
    np.testing.assert_array_equal(store.search_many(queries, 5), expected)


def test_single_search_returns_ids_and_scores_best_first() -> None:
    corpus = _unit_rows(50, 8, 2)
    store = ExactNumpyStore()
    store.load(np.arange(50), corpus)
    hits = store.search(corpus[17], 3)
    assert hits[0].id == 17 and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_k_larger_than_corpus_returns_everything() -> None:
    store = ExactNumpyStore()
    store.load(np.arange(3), _unit_rows(3, 4, 3))
    assert len(store.search(_unit_rows(1, 4, 4)[0], 10)) == 3


def test_recall_counts_overlap_of_top_k() -> None:
    truth = np.array([[1, 2, 3], [4, 5, 6]])
    found = np.array([[3, 2, 9], [4, 5, 6]])
    assert recall_at_k(found, truth, 3) == pytest.approx(5 / 6)
    assert recall_at_k(found, truth, 1) == pytest.approx(1 / 2)


@pytest.mark.parametrize("kwargs", [{"kind": "lsh"}, {"metric": "hamming"}, {"lists": 0}, {"ef_search": -1}])
def test_bad_index_spec_is_a_config_error(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        IndexSpec(**kwargs)
