"""Specifications of the shipped datasets, their loaders and the synthetic vector generators."""

from __future__ import annotations

import json
import re
import shutil
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from veracity.data import (
    DATA_DIR,
    DATASET_FILES,
    MANIFEST,
    NLI_LABELS,
    VERDICTS,
    data_file,
    dataset_version,
    file_sha256,
    load_claims,
    load_corpus,
    load_nli_pairs,
    synthetic,
    verify_checksums,
)
from veracity.data.generate import generate
from veracity.data.synthetic import ClusteredSpec, exact_neighbours, make_clustered_corpus, make_queries
from veracity.data.templates import TEST_FAMILY, TOPICS, TRAIN_FAMILY
from veracity.errors import DatasetError

SHIPPED = (*DATASET_FILES, MANIFEST)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    for name in SHIPPED:
        shutil.copy(DATA_DIR / name, tmp_path / name)
    return tmp_path


def _sentences(text: str) -> int:
    return len(re.findall(r"[.!?](?:\s|$)", text))


# --- the shipped datasets -------------------------------------------------------------------


def test_corpus_has_at_least_2000_passages_with_unique_ids() -> None:
    corpus = load_corpus()
    assert len(corpus) >= 2000
    assert len({p.id for p in corpus}) == len(corpus)
    assert all(p.title and p.text for p in corpus)


def test_corpus_mixes_one_sentence_passages_with_long_ones() -> None:
    lengths = Counter(min(_sentences(p.text), 4) for p in load_corpus())
    total = sum(lengths.values())
    assert lengths[1] / total > 0.2
    assert lengths[4] / total > 0.2


def test_claims_number_at_least_200_balanced_over_verdicts() -> None:
    counts = Counter(c.verdict for c in load_claims())
    assert sum(counts.values()) >= 200
    assert set(counts) == set(VERDICTS)
    assert max(counts.values()) - min(counts.values()) <= 0.1 * max(counts.values())


def test_every_claim_evidence_id_exists_in_the_corpus() -> None:
    ids = {p.id for p in load_corpus()}
    assert all(set(c.evidence) <= ids for c in load_claims())


def test_supported_and_refuted_claims_cite_evidence_and_not_enough_info_claims_cite_none() -> None:
    for claim in load_claims():
        if claim.verdict == "not_enough_info":
            assert claim.evidence == (), claim
        else:
            assert len(claim.evidence) >= 1, claim


def test_claims_are_paraphrases_not_copies_of_their_evidence() -> None:
    corpus = {p.id: p.text for p in load_corpus()}
    assert not [c for c in load_claims() if any(c.claim in corpus[e] for e in c.evidence)]


def test_nli_pairs_number_at_least_600_with_labels_balanced_in_each_split() -> None:
    pairs = load_nli_pairs()
    assert len(pairs) >= 600
    for split in ("train", "test"):
        counts = Counter(p.label for p in pairs if p.split == split)
        assert set(counts) == set(NLI_LABELS)
        assert len(set(counts.values())) == 1, counts


def test_nli_test_split_is_about_a_quarter_of_the_pairs() -> None:
    share = len(load_nli_pairs("test")) / len(load_nli_pairs())
    assert 0.2 <= share <= 0.3


def test_no_nli_test_group_appears_in_train() -> None:
    train_groups = {p.group for p in load_nli_pairs("train")}
    test_groups = {p.group for p in load_nli_pairs("test")}
    assert test_groups
    assert not train_groups & test_groups


def test_held_out_template_family_shares_no_phrasing_with_the_training_family() -> None:
    for topic in TOPICS:
        for held_out in (topic.premise_templates, topic.claim_templates):
            train = {t.text for t in held_out(TRAIN_FAMILY)}
            test = {t.text for t in held_out(TEST_FAMILY)}
            assert train and test and not train & test, topic.key


def test_nli_pairs_never_name_an_entity_of_the_corpus() -> None:
    # Overview passages are titled with the bare entity name; sections and digests add more.
    names = {p.title for p in load_corpus() if ":" not in p.title and not p.title.startswith("Towns of ")}
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b")
    leaks = [p.id for p in load_nli_pairs() if pattern.search(p.premise) or pattern.search(p.hypothesis)]
    assert len(names) > 1000
    assert not leaks


def test_loaders_return_fresh_lists_each_call() -> None:
    first = load_corpus()
    first.clear()
    assert load_corpus()


def test_load_nli_pairs_keeps_only_the_asked_split_and_rejects_unknown_ones() -> None:
    assert {p.split for p in load_nli_pairs("train")} == {"train"}
    assert {p.split for p in load_nli_pairs("test")} == {"test"}
    with pytest.raises(ValueError, match="validation"):
        load_nli_pairs("validation")


# --- integrity ------------------------------------------------------------------------------


def test_shipped_checksums_verify_and_version_is_semantic() -> None:
    verify_checksums()
    assert re.fullmatch(r"\d+\.\d+\.\d+", dataset_version())


def test_file_sha256_matches_the_manifest() -> None:
    manifest = json.loads(data_file(MANIFEST).read_text())
    for name in DATASET_FILES:
        assert file_sha256(name) == manifest["files"][name]["sha256"]


def test_a_corrupted_dataset_file_raises_dataset_error_naming_it(data_copy: Path) -> None:
    path = data_copy / "claims.jsonl"
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match=r"claims\.jsonl.*veracity\.data\.generate"):
        load_claims(data_copy)
    with pytest.raises(DatasetError, match=r"claims\.jsonl"):
        verify_checksums(data_copy)
    assert len(load_corpus(data_copy)) == len(load_corpus())


def test_a_missing_dataset_file_raises_dataset_error_saying_what_to_do(data_copy: Path) -> None:
    (data_copy / "corpus.jsonl").unlink()
    with pytest.raises(DatasetError, match=r"corpus\.jsonl is missing.*regenerate"):
        load_corpus(data_copy)


def test_a_missing_manifest_raises_dataset_error(data_copy: Path) -> None:
    (data_copy / MANIFEST).unlink()
    with pytest.raises(DatasetError, match="manifest"):
        load_nli_pairs(directory=data_copy)


def test_regenerating_reproduces_the_shipped_files_byte_for_byte(tmp_path: Path) -> None:
    generate(tmp_path)
    for name in SHIPPED:
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), name
    assert not [p.name for p in tmp_path.iterdir() if p.name not in SHIPPED]


# --- synthetic vectors ----------------------------------------------------------------------


def test_clustered_corpus_is_deterministic_for_a_seed_and_differs_across_seeds() -> None:
    a = make_clustered_corpus(2000, dim=64, seed=7)
    assert np.array_equal(a, make_clustered_corpus(2000, dim=64, seed=7))
    assert not np.array_equal(a, make_clustered_corpus(2000, dim=64, seed=8))


def test_clustered_corpus_rows_are_unit_float32_of_the_requested_shape() -> None:
    corpus = ClusteredSpec(1500, dim=48, n_clusters=12).corpus()
    assert corpus.shape == (1500, 48)
    assert corpus.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(corpus, axis=1), 1.0, atol=1e-5)


def test_clustered_corpus_is_clustered_not_isotropic() -> None:
    corpus = make_clustered_corpus(3000, dim=128, seed=1)
    sample = corpus[:200]
    nearest = np.sort(sample @ corpus.T, axis=1)[:, -2]  # -1 is the row itself
    random_pairs = np.abs(np.einsum("ij,ij->i", sample, corpus[200:400]))
    assert nearest.mean() > 0.5
    assert nearest.mean() > 2 * random_pairs.mean()


def test_queries_are_deterministic_near_the_corpus_and_not_copies_of_its_rows() -> None:
    spec = ClusteredSpec(3000, dim=64, seed=3)
    corpus, queries = spec.corpus(), make_queries(spec, 50)
    assert np.array_equal(queries, spec.queries(50))
    assert not np.array_equal(queries, spec.queries(50, seed=1))
    best = (queries @ corpus.T).max(axis=1)
    assert best.min() < 0.999
    assert best.mean() > 0.5


def test_exact_neighbours_match_a_brute_force_sort() -> None:
    spec = ClusteredSpec(1000, dim=32, seed=5)
    corpus, queries = spec.corpus(), spec.queries(40)
    expected = np.argsort(-(queries @ corpus.T), axis=1, kind="stable")[:, :10]
    found = exact_neighbours(corpus, queries, 10)
    assert found.dtype == np.int64
    assert np.array_equal(found, expected)


def test_exact_neighbours_give_the_same_answer_in_small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = ClusteredSpec(1000, dim=16, seed=2)
    corpus, queries = spec.corpus(), spec.queries(30)
    whole = exact_neighbours(corpus, queries, 5)
    monkeypatch.setattr(synthetic, "_BLOCK_ELEMENTS", 3000)
    assert np.array_equal(exact_neighbours(corpus, queries, 5), whole)


def test_exact_neighbours_break_ties_by_lower_index() -> None:
    corpus = np.array([[0, 1], [1, 0], [0.6, 0.8], [1, 0], [1, 0], [0.8, 0.6]], dtype=np.float32)
    query = np.array([[1, 0]], dtype=np.float32)
    assert exact_neighbours(corpus, query, 2).tolist() == [[1, 3]]
    assert exact_neighbours(corpus, query, 6).tolist() == [[1, 3, 4, 5, 2, 0]]


@pytest.mark.parametrize(
    "make",
    [
        lambda: ClusteredSpec(0),
        lambda: ClusteredSpec(10, dim=0),
        lambda: ClusteredSpec(10, n_clusters=0),
        lambda: ClusteredSpec(1_000_001),
        lambda: ClusteredSpec(100).queries(0),
        lambda: exact_neighbours(np.ones((3, 2), np.float32), np.ones((1, 2), np.float32), 0),
        lambda: exact_neighbours(np.ones((3, 2), np.float32), np.ones((1, 2), np.float32), 4),
        lambda: exact_neighbours(np.ones((3, 2), np.float32), np.ones((1, 3), np.float32), 1),
    ],
)
def test_invalid_sizes_raise_value_error(make: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        make()
