"""Validation of user-supplied texts before any model sees them."""

from __future__ import annotations

from collections.abc import Sequence

from veracity.errors import InputError


def check_texts(texts: Sequence[str], *, what: str) -> None:
    """Raise InputError for an empty list, a non-string, or a blank text (naming its position)."""
    if isinstance(texts, str):
        raise InputError(f"expected a list of {what}s, got one string")
    if len(texts) == 0:
        raise InputError(f"no {what}s given")
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise InputError(f"{what} #{position + 1} is {type(text).__name__}, not a string")
        if not text.strip():
            raise InputError(f"{what} #{position + 1} is empty or whitespace; give some words to check")
