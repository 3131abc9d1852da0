"""Which way is better for a benchmark, declared once beside it through its asv `unit`.

asv stores a benchmark's `unit` in benchmarks.json and prints it on every graph axis, so the
direction travels with the results and shows in the site without any other registry. Times,
bytes and anything without the marker are lower-is-better, as asv assumes; a yardstick (the machine) and a
descriptive figure (no better side) are marked too, and never judged as a regression.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

HIGHER_IS_BETTER_MARK = " (higher is better)"

F = TypeVar("F", bound=Callable[..., object])


def unit_with_direction(unit: str, *, higher_is_better: bool) -> str:
    """The unit string to give asv, e.g. `texts/s (higher is better)`."""
    return unit + HIGHER_IS_BETTER_MARK if higher_is_better else unit


def parse_unit(unit: str | None) -> tuple[str, bool]:
    """Split an asv unit into (plain unit, higher_is_better)."""
    unit = unit or ""
    if unit.endswith(HIGHER_IS_BETTER_MARK):
        return unit[: -len(HIGHER_IS_BETTER_MARK)], True
    return unit, False


def higher_is_better(unit: str) -> Callable[[F], F]:
    """Decorator for `track_*` benchmarks whose value should rise (throughput, recall, accuracy)."""

    def mark(benchmark: F) -> F:
        benchmark.unit = unit_with_direction(unit, higher_is_better=True)  # type: ignore[attr-defined]
        return benchmark

    return mark


def lower_is_better(unit: str) -> Callable[[F], F]:
    """Decorator for `track_*` benchmarks whose value should fall (seconds, bytes, latency)."""

    def mark(benchmark: F) -> F:
        benchmark.unit = unit  # type: ignore[attr-defined]
        return benchmark

    return mark


# A yardstick measures the machine, not the code (a fixed matmul, a fixed memory walk): when it
# moves between two commits, the machine moved. The mark rides in the unit, as the direction does,
# so it reaches results, reports and the graphs' axis labels without another registry.
YARDSTICK_MARK = " [machine yardstick]"


def machine_yardstick(unit: str, *, higher_is_better: bool = True) -> Callable[[F], F]:
    """Decorator for `track_*` benchmarks that measure the machine itself (see tracking.drift)."""

    def mark(benchmark: F) -> F:
        benchmark.unit = unit_with_direction(unit + YARDSTICK_MARK, higher_is_better=higher_is_better)  # type: ignore[attr-defined]
        return benchmark

    return mark


def is_yardstick(unit: str) -> bool:
    """Whether a unit (as asv stores it, or as parse_unit returns it) marks a machine yardstick."""
    return YARDSTICK_MARK in unit


# A descriptive figure has no better side: a stage's share of the end-to-end time rises whenever
# another stage gets faster (the shares sum to 1). It is shown and graphed, and never judged.
DESCRIPTIVE_MARK = " [descriptive]"


def descriptive(unit: str) -> Callable[[F], F]:
    """Decorator for `track_*` figures that describe rather than rate (never a regression or an improvement)."""

    def mark(benchmark: F) -> F:
        benchmark.unit = unit + DESCRIPTIVE_MARK  # type: ignore[attr-defined]
        return benchmark

    return mark


def is_descriptive(unit: str) -> bool:
    """Whether a unit (as asv stores it) marks a descriptive figure."""
    return DESCRIPTIVE_MARK in unit


def plain_unit(unit: str | None) -> str:
    """The unit without any mark veracity adds: `texts/s (higher is better)` -> `texts/s`."""
    bare, _ = parse_unit(unit)
    return bare.replace(YARDSTICK_MARK, "").replace(DESCRIPTIVE_MARK, "")
