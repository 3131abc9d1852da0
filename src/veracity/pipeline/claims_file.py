"""Reading a user's claims file (JSON lines) with errors that name the line."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from veracity.errors import InputError


@dataclass(frozen=True)
class ClaimInput:
    """One claim to verify and the id it came with (or its line number)."""

    id: str
    claim: str


def read_claims_file(path: Path) -> list[ClaimInput]:
    """Every claim in a JSON-lines file of `{"claim": ..., "id": ...}` objects; blank lines are skipped.

    The whole file is checked before any work starts, so a bad line late in the file never leaves
    half an output behind.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"claims file {path} does not exist") from None
    except OSError as exc:
        raise InputError(f"cannot read claims file {path}: {exc.strerror}") from None
    claims: list[ClaimInput] = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{path}:{number}: not valid UTF-8; save the file as UTF-8") from None
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f'{path}:{number}: not valid JSON ({exc.msg}); each line must be {{"claim": "..."}}'
            ) from None
        if not isinstance(record, dict) or not isinstance(record.get("claim"), str):
            raise InputError(f'{path}:{number}: expected an object with a "claim" string')
        if not record["claim"].strip():
            raise InputError(f"{path}:{number}: the claim is empty or whitespace")
        claims.append(ClaimInput(id=str(record.get("id", number)), claim=record["claim"]))
    if not claims:
        raise InputError(f"claims file {path} holds no claims")
    return claims
