"""A claims file is checked whole before work starts, and every problem names its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from veracity.errors import InputError
from veracity.pipeline.claims_file import read_claims_file


def _write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "claims.jsonl"
    path.write_bytes(content)
    return path


def test_reads_claims_and_ids_skipping_blank_lines(tmp_path: Path) -> None:
    path = _write(tmp_path, b'{"id": "a", "claim": "Water is wet."}\n\n{"claim": "Fire is cold."}\n')
    claims = read_claims_file(path)
    assert [(c.id, c.claim) for c in claims] == [("a", "Water is wet."), ("3", "Fire is cold.")]


def test_non_utf8_line_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, b'{"claim": "fine"}\n{"claim": "caf\xe9"}\n')
    with pytest.raises(InputError, match=r"claims.jsonl:2: not valid UTF-8"):
        read_claims_file(path)


def test_malformed_json_line_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, b'{"claim": "fine"}\n{"claim": \n')
    with pytest.raises(InputError, match=r"claims.jsonl:2: not valid JSON"):
        read_claims_file(path)


@pytest.mark.parametrize("line", [b'["a list"]', b'{"text": "no claim key"}', b'{"claim": 42}'])
def test_line_without_a_claim_string_is_named(tmp_path: Path, line: bytes) -> None:
    with pytest.raises(InputError, match=r":1: expected an object"):
        read_claims_file(_write(tmp_path, line + b"\n"))


def test_blank_claim_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r":1: the claim is empty"):
        read_claims_file(_write(tmp_path, b'{"claim": "   "}\n'))


def test_empty_file_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="holds no claims"):
        read_claims_file(_write(tmp_path, b"\n\n"))


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_claims_file(tmp_path / "nope.jsonl")
