"""FLOP counts that efficiency figures are read against."""

from __future__ import annotations

import pytest

from veracity.pipeline.flops import EncoderShape

MINILM = EncoderShape(layers=6, hidden=384, intermediate=1536)


def test_minilm_short_text_costs_about_043_gflop() -> None:
    assert MINILM.sequence_flops(20) / 1e9 == pytest.approx(0.43, rel=0.03)


def test_cost_grows_faster_than_linearly_with_length() -> None:
    assert MINILM.sequence_flops(200) > 10 * MINILM.sequence_flops(20)


def test_total_is_sum_of_unpadded_sequences() -> None:
    assert MINILM.total_flops([10, 30]) == MINILM.sequence_flops(10) + MINILM.sequence_flops(30)
