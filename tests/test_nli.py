"""The NLI stage: the project-built default model, length-sorted batching, label mapping, honest accuracy."""

from __future__ import annotations

import json

import numpy as np
import pytest

from veracity.data import NLI_LABELS, load_nli_pairs
from veracity.errors import InputError, ModelNotFoundError
from veracity.pipeline.nli import NliModel, label_permutation
from veracity.pipeline.nli_training import METADATA_FILE, TrainingConfig, cache_key

pytestmark = pytest.mark.models

# The default model is a MiniLM fine-tuned on ~700 synthetic pairs; its held-out groups use phrasings
# never seen in training. Chance is 1/3. This floor catches a broken build or label mix-up.
HELD_OUT_ACCURACY_FLOOR = 0.55


def test_probabilities_are_distributions(nli_model: NliModel) -> None:
    result = nli_model.predict([("Vesford was founded in 1642.", "Vesford dates from 1642.")])
    assert result.probs.shape == (1, 3)
    np.testing.assert_allclose(result.probs.sum(axis=1), 1.0, atol=1e-5)


def test_sorted_and_unsorted_batching_agree(nli_model: NliModel) -> None:
    pairs = [(p.premise, p.hypothesis) for p in load_nli_pairs("test")[:24]]
    nli_model.batch_size = 8
    sorted_probs = nli_model.predict(pairs, sort_by_length=True).probs
    unsorted_probs = nli_model.predict(pairs, sort_by_length=False).probs
    nli_model.batch_size = 16
    np.testing.assert_allclose(sorted_probs, unsorted_probs, atol=1e-4)


def test_held_out_accuracy_beats_floor_and_matches_saved_report(nli_model: NliModel) -> None:
    pairs = load_nli_pairs("test")
    predicted = nli_model.predict([(p.premise, p.hypothesis) for p in pairs]).labels()
    accuracy = sum(label == p.label for label, p in zip(predicted, pairs, strict=True)) / len(pairs)
    assert accuracy >= HELD_OUT_ACCURACY_FLOOR
    saved = json.loads((nli_model.path / METADATA_FILE).read_text())
    assert saved["test_accuracy"] == pytest.approx(accuracy, abs=0.02)


def test_default_model_is_cached_under_its_data_and_code_key(nli_model: NliModel) -> None:
    assert nli_model.path.name == f"veracity-nli-{cache_key(TrainingConfig())}"


def test_changing_hyperparameters_changes_the_key() -> None:
    assert cache_key(TrainingConfig()) != cache_key(TrainingConfig(epochs=1))


def test_overlong_pair_is_truncated_and_counted(nli_model: NliModel) -> None:
    result = nli_model.predict([("word " * 1000, "A claim."), ("Short.", "A claim.")])
    assert result.truncated == 1
    assert result.token_counts[0] == nli_model.max_length


def test_blank_hypothesis_is_an_input_error(nli_model: NliModel) -> None:
    with pytest.raises(InputError, match="hypothesis #1"):
        nli_model.predict([("A premise.", " ")])


def test_labels_are_matched_by_name_whatever_the_model_order() -> None:
    deberta_order = {0: "contradiction", 1: "entailment", 2: "neutral"}
    order = label_permutation(deberta_order)
    assert [deberta_order[i] for i in order] == list(NLI_LABELS)


def test_model_without_nli_labels_is_rejected() -> None:
    with pytest.raises(ModelNotFoundError, match="3-way NLI"):
        label_permutation({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})


def test_unknown_nli_model_path_is_a_model_not_found_error(tmp_path) -> None:
    with pytest.raises(ModelNotFoundError):
        NliModel(str(tmp_path / "missing"))
