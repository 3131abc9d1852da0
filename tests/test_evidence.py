"""Evidence units: every sentence of the corpus, titled, traceable to its passage."""

from __future__ import annotations

from veracity.data import Passage, load_claims, load_corpus
from veracity.pipeline.evidence import evidence_units, split_sentences


def test_sentences_split_at_terminal_punctuation_before_a_capital() -> None:
    text = "The Bril flows through Vesford. The town counts roughly 18,000 inhabitants. It is old!"
    assert split_sentences(text) == [
        "The Bril flows through Vesford.",
        "The town counts roughly 18,000 inhabitants.",
        "It is old!",
    ]


def test_units_carry_title_and_passage_id() -> None:
    units = evidence_units([Passage("p1", "Vesford", "The town is old. It has a museum.")])
    assert [(u.passage_id, u.text) for u in units] == [
        ("p1", "Vesford. The town is old."),
        ("p1", "Vesford. It has a museum."),
    ]


def test_every_passage_yields_units_and_every_gold_passage_is_reachable() -> None:
    units = evidence_units(load_corpus())
    passages_with_units = {u.passage_id for u in units}
    assert passages_with_units == {p.id for p in load_corpus()}
    assert all(set(c.evidence) <= passages_with_units for c in load_claims())
