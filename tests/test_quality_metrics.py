"""Per-class F1, macro-F1, the confusion matrix, NDCG@k and hit rate@k, checked against scikit-learn's
own implementations on seeded data and against hand-worked cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score, ndcg_score

from veracity.pipeline.quality_metrics import ConfusionMatrix, hit_rate_at_k, ndcg_at_k

VERDICTS = ("supported", "refuted", "not_enough_info")


def _seeded_labels(n: int, seed: int) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    gold = [VERDICTS[i] for i in rng.integers(3, size=n)]
    predicted = [g if rng.random() < 0.7 else VERDICTS[int(rng.integers(3))] for g in gold]
    return gold, predicted


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_confusion_and_f1_agree_with_scikit_learn(seed: int) -> None:
    gold, predicted = _seeded_labels(240, seed)
    matrix = ConfusionMatrix.from_labels(gold, predicted, VERDICTS)
    assert [list(row) for row in matrix.counts] == confusion_matrix(gold, predicted, labels=list(VERDICTS)).tolist()
    per_class = f1_score(gold, predicted, labels=list(VERDICTS), average=None)
    assert [matrix.f1(v) for v in VERDICTS] == pytest.approx(per_class.tolist())
    assert matrix.macro_f1() == pytest.approx(f1_score(gold, predicted, labels=list(VERDICTS), average="macro"))


def test_flipping_a_third_of_refuted_to_supported_shows_in_both_classes_f1() -> None:
    gold = ["supported"] * 30 + ["refuted"] * 30 + ["not_enough_info"] * 30
    flipped = ["supported"] * 30 + ["supported"] * 10 + ["refuted"] * 20 + ["not_enough_info"] * 30
    matrix = ConfusionMatrix.from_labels(gold, flipped, VERDICTS)
    assert matrix.count("refuted", "supported") == 10
    assert matrix.recall("refuted") == pytest.approx(2 / 3)
    assert matrix.f1("refuted") == pytest.approx(0.8)  # precision 1, recall 2/3
    assert matrix.f1("supported") == pytest.approx(2 * 0.75 / 1.75)  # precision 3/4, recall 1
    assert matrix.f1("not_enough_info") == 1.0
    assert matrix.accuracy() == pytest.approx(80 / 90)


def test_a_class_never_predicted_has_f1_zero_not_an_error() -> None:
    matrix = ConfusionMatrix.from_labels(["refuted", "supported"], ["supported", "supported"], VERDICTS)
    assert matrix.f1("refuted") == 0.0
    assert matrix.f1("not_enough_info") == 0.0  # no example and never predicted


def test_an_unknown_label_is_an_error() -> None:
    with pytest.raises(ValueError, match="maybe"):
        ConfusionMatrix.from_labels(["supported"], ["maybe"], VERDICTS)
    with pytest.raises(ValueError, match="2 gold labels but 1"):
        ConfusionMatrix.from_labels(["supported", "refuted"], ["supported"], VERDICTS)


def _sklearn_ndcg(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    """scikit-learn's NDCG@k with the same grading: exact rank r has relevance k - r; found rank r scores k - r."""
    universe = np.unique(np.concatenate([found.ravel(), truth.ravel()]))
    position = {int(item): i for i, item in enumerate(universe)}
    relevance = np.zeros((len(found), len(universe)))
    scores = np.full((len(found), len(universe)), -1.0)
    for q in range(len(found)):
        for rank, item in enumerate(truth[q, :k]):
            relevance[q, position[int(item)]] = k - rank
        for rank, item in enumerate(found[q, :k]):
            scores[q, position[int(item)]] = k - rank
    return float(ndcg_score(relevance, scores, k=k))


@pytest.mark.parametrize("seed", [0, 1])
def test_ndcg_agrees_with_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    truth = np.array([rng.permutation(200)[:10] for _ in range(50)])
    # An approximate search: most of the true neighbours, shuffled a little, some replaced.
    found = truth.copy()
    for row in found:
        swap = rng.integers(10, size=2)
        row[swap] = row[swap[::-1]]
        row[rng.integers(10)] = 200 + rng.integers(100)
    assert ndcg_at_k(found, truth, 10) == pytest.approx(_sklearn_ndcg(found, truth, 10))
    assert 0.5 < ndcg_at_k(found, truth, 10) < 1.0


def test_ndcg_is_one_for_the_exact_answer_and_zero_for_nothing_relevant() -> None:
    truth = np.arange(20).reshape(2, 10)
    assert ndcg_at_k(truth, truth, 10) == pytest.approx(1.0)
    assert ndcg_at_k(truth + 100, truth, 10) == 0.0


def test_ndcg_weighs_the_nearest_neighbour_most() -> None:
    truth = np.arange(10)[None, :]
    last_two_swapped = truth[:, [0, 1, 2, 3, 4, 5, 6, 7, 9, 8]]
    first_and_last_swapped = truth[:, [9, 1, 2, 3, 4, 5, 6, 7, 8, 0]]
    assert ndcg_at_k(first_and_last_swapped, truth, 10) < ndcg_at_k(last_two_swapped, truth, 10) < 1.0


def test_a_short_answer_is_padded_not_an_error() -> None:
    truth = np.arange(10)[None, :]
    discounts = 1 / np.log2(np.arange(2, 12))
    gains = 10 - np.arange(10)
    expected = np.sum(gains[:5] * discounts[:5]) / np.sum(gains * discounts)
    assert ndcg_at_k(truth[:, :5], truth, 10) == pytest.approx(expected)
    assert hit_rate_at_k(np.full((1, 3), -1), truth, 10) == 0.0


def test_hit_rate_counts_queries_whose_nearest_neighbour_was_found() -> None:
    truth = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]])
    found = np.array([[1, 3, 2], [5, 6, 0], [0, 0, 7], [11, 12, 13]])
    assert hit_rate_at_k(found, truth, 3) == 0.5  # queries 0 and 2 found their nearest neighbour
    assert hit_rate_at_k(found, truth, 2) == 0.25  # at k=2 query 2's neighbour (third) is cut off


def test_k_larger_than_the_ground_truth_is_an_error() -> None:
    with pytest.raises(ValueError, match="k=10"):
        ndcg_at_k(np.zeros((1, 10)), np.zeros((1, 5)), 10)


# --- the site's quality page -------------------------------------------------------------------------


def _results(commit: str, matrix: ConfusionMatrix) -> list:
    from veracity.tracking.results import BenchmarkResult

    def result(name: str, params: tuple[str, ...], value: float) -> BenchmarkResult:
        return BenchmarkResult(name, params, value, None, commit, "m", "env")

    rows = [
        result("quality.VerdictQuality.track_confusion", (repr(g), repr(p)), matrix.count(g, p))
        for g in VERDICTS
        for p in VERDICTS
    ]
    rows += [result("quality.VerdictQuality.track_class_f1", (repr(v),), matrix.f1(v)) for v in VERDICTS]
    rows.append(result("quality.VerdictQuality.track_macro_f1", (), matrix.macro_f1()))
    return rows


def test_the_quality_page_rebuilds_the_matrix_and_flags_the_class_whose_f1_fell() -> None:
    import re

    from veracity.tracking.site_quality import confusion_cells, quality_to_html

    gold = ["supported"] * 30 + ["refuted"] * 30 + ["not_enough_info"] * 30
    before = ConfusionMatrix.from_labels(gold, gold, VERDICTS)
    flipped = ["supported"] * 40 + ["refuted"] * 20 + ["not_enough_info"] * 30
    after = ConfusionMatrix.from_labels(gold, flipped, VERDICTS)
    assert confusion_cells(_results("b", after))[("refuted", "supported")] == 10

    page = quality_to_html(_results("b" * 40, after), "b" * 40, "veracity", _results("a" * 40, before), "a" * 40)
    refuted_row = re.search(r"<tr><th>refuted</th>(.*?)</tr>", page).group(1)
    assert [int(c) for c in re.findall(r">(\d+)</td>", refuted_row)] == [10, 20, 0]
    fell = re.findall(r"<tr class='fell'><td>([a-z_]+)</td>", page)
    assert fell == ["supported", "refuted", "macro"]  # not_enough_info kept its F1 of 1.0
    assert "<script" not in page and "http" not in page.replace('href="index.html"', "")


def test_the_quality_page_says_so_when_a_commit_has_no_quality_figures() -> None:
    from veracity.tracking.site_quality import quality_to_html

    page = quality_to_html([], None, "veracity")
    assert "No confusion matrix on this commit" in page
    assert "No F1 figures on this commit" in page
