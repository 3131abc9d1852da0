"""Quality in depth: confusion matrix, per-class and macro F1, and ranking quality (NDCG@k, hit rate@k).

Accuracy alone hides a trade between classes (a third of "refuted" answered "supported" can leave it
near its band while refuted F1 falls by a quarter); the per-class figures show it. Ranking quality is
read against exact search: the exact top-k are the relevant items, in their order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ConfusionMatrix:
    """Counts of (gold, predicted) label pairs; `counts[i][j]`: gold `labels[i]` predicted as `labels[j]`."""

    labels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    @classmethod
    def from_labels(cls, gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> ConfusionMatrix:
        """Count each (gold, predicted) pair; a label outside `labels` is an error, not a silent drop."""
        if len(gold) != len(predicted):
            raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
        index = {label: i for i, label in enumerate(labels)}
        unknown = sorted({label for label in (*gold, *predicted) if label not in index})
        if unknown:
            raise ValueError(f"labels {unknown} are not among {list(labels)}")
        counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
        for g, p in zip(gold, predicted, strict=True):
            counts[index[g], index[p]] += 1
        return cls(tuple(labels), tuple(tuple(int(c) for c in row) for row in counts))

    def count(self, gold: str, predicted: str) -> int:
        return self.counts[self.labels.index(gold)][self.labels.index(predicted)]

    @property
    def total(self) -> int:
        return sum(map(sum, self.counts))

    def accuracy(self) -> float:
        return sum(self.counts[i][i] for i in range(len(self.labels))) / max(1, self.total)

    def precision(self, label: str) -> float:
        """Of everything predicted `label`, the share that was; 0 when nothing was predicted `label`."""
        j = self.labels.index(label)
        predicted = sum(row[j] for row in self.counts)
        return self.counts[j][j] / predicted if predicted else 0.0

    def recall(self, label: str) -> float:
        """Of everything that was `label`, the share predicted so; 0 when the class has no example."""
        i = self.labels.index(label)
        actual = sum(self.counts[i])
        return self.counts[i][i] / actual if actual else 0.0

    def f1(self, label: str) -> float:
        """Harmonic mean of precision and recall (0 when both are 0), as scikit-learn's f1_score."""
        p, r = self.precision(label), self.recall(label)
        return 2 * p * r / (p + r) if p + r else 0.0

    def per_class_f1(self) -> dict[str, float]:
        return {label: self.f1(label) for label in self.labels}

    def macro_f1(self) -> float:
        """The unweighted mean of the per-class F1: every class counts the same, whatever its size."""
        return float(np.mean([self.f1(label) for label in self.labels]))


def ndcg_at_k(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Mean NDCG@k over queries, with the exact top-k as the relevant items, graded by exact rank.

    `found` and `truth` are (queries, >= k) id arrays (-1 pads a short answer). The exact neighbour at
    rank r (0-based) has relevance k - r, so swapping the true nearest neighbour for the 10th costs
    more than swapping the 9th and 10th; the exact answer itself scores 1.
    """
    found, truth = _ranked(found, truth, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = float(np.sum((k - np.arange(k)) * discounts))
    scores = []
    for got, want in zip(found, truth, strict=True):
        relevance = {int(item): k - rank for rank, item in enumerate(want)}
        gains = np.array([relevance.get(int(item), 0) if item >= 0 else 0 for item in got], dtype=np.float64)
        scores.append(float(np.sum(gains * discounts)) / ideal)
    return float(np.mean(scores))


def hit_rate_at_k(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    """Share of queries whose exact nearest neighbour is among the first k ids returned."""
    found, truth = _ranked(found, truth, k)
    return float(np.mean([int(want[0]) in set(got.tolist()) for got, want in zip(found, truth, strict=True)]))


def _ranked(found: np.ndarray, truth: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    found, truth = np.asarray(found), np.asarray(truth)
    if k < 1:
        raise ValueError("k must be at least 1")
    if found.ndim != 2 or truth.ndim != 2 or len(found) != len(truth) or not len(found):
        raise ValueError("found and truth must be (queries, k) arrays with the same, non-zero number of queries")
    if truth.shape[1] < k:
        raise ValueError(f"the ground truth holds {truth.shape[1]} neighbours a query; k={k} needs at least k")
    if found.shape[1] < k:  # a short answer: the missing ranks hold nothing
        found = np.pad(found, ((0, 0), (0, k - found.shape[1])), constant_values=-1)
    return found[:, :k], truth[:, :k]
