"""Forward-pass FLOP counts of BERT-style encoders from their config and real token counts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EncoderShape:
    """The sizes that set an encoder layer's cost."""

    layers: int
    hidden: int
    intermediate: int

    @classmethod
    def from_config(cls, config: Any) -> EncoderShape:
        """Read a Hugging Face config (BERT, MiniLM, RoBERTa, DeBERTa all use these names)."""
        hidden = int(config.hidden_size)
        return cls(
            layers=int(config.num_hidden_layers),
            hidden=hidden,
            intermediate=int(getattr(config, "intermediate_size", 4 * hidden)),
        )

    def sequence_flops(self, tokens: int) -> int:
        """Multiply-adds x 2 of one sequence of `tokens` tokens through every layer.

        Per token and layer: Q, K, V and output projections (4 x 2 x H^2), the feed-forward pair
        (2 x 2 x H x I), and attention scores plus the weighted sum (2 x 2 x tokens x H). Embedding
        look-ups, layer norms, softmax and pooling are left out: they are a few percent at most.
        """
        h, i = self.hidden, self.intermediate
        per_token = 8 * h * h + 4 * h * i + 4 * tokens * h
        return self.layers * tokens * per_token

    def total_flops(self, token_counts: Iterable[int]) -> int:
        """FLOPs of a set of sequences, each counted at its own (unpadded) length."""
        return sum(self.sequence_flops(int(t)) for t in token_counts)
