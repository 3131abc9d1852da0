"""Evidence units: the corpus split into titled sentences, the granularity the NLI model reads.

Retrieving whole passages hands the cross-encoder up to eight sentences per pair, and its cost
grows with every token; one sentence carries the fact a claim is about. The passage title is kept
in front of each sentence so that "The town was founded in 1642." still says which town.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from veracity.data import Passage

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


@dataclass(frozen=True)
class EvidenceUnit:
    """One retrievable piece of evidence and the passage it came from."""

    passage_id: str
    text: str


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, split after . ! or ? followed by a capital, digit or quote."""
    return [s for s in (part.strip() for part in _SENTENCE_END.split(text)) if s]


def evidence_units(passages: Sequence[Passage]) -> list[EvidenceUnit]:
    """Every sentence of every passage, prefixed by its title, in corpus order."""
    units = []
    for passage in passages:
        for sentence in split_sentences(passage.text):
            units.append(EvidenceUnit(passage.id, f"{passage.title}. {sentence}"))
    return units
