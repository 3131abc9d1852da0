"""Progress bars that appear for people at a terminal and stay out of logs and pipes."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress_bar(items: Iterable[T], *, enabled: bool = True, **kwargs: object) -> Iterable[T]:
    """Wrap `items` in tqdm on stderr when enabled and stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        return items
    return tqdm(items, file=sys.stderr, leave=False, dynamic_ncols=True, **kwargs)
