"""The hooks on `asv compare` and `asv continuous`: each row judged by direction, yardstick and noise band."""

from __future__ import annotations

import contextlib
import io
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from veracity.tracking.direction import is_descriptive, is_yardstick, parse_unit
from veracity.tracking.noise import CALIBRATED_HERE, NoiseFile

_MARK = "__veracity_hook__"  # set on every hooked function: `installed()` reads it

# -- noise thresholds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """A benchmark's noise threshold on one machine (0.04 = 4%) and where veracity got it."""

    value: float
    source: str


def noise_band(noise: NoiseFile, machine: str, key: str, *, paired: bool, unit: str = "") -> Band | None:
    """The threshold veracity judges `key` on `machine` against, and its source; None where none is known.

    The one place the asv hooks ask for noise: a calibrated band (the paired one for two commits
    measured in one asv run, as asv continuous measures them), floored as veracity floors it (the
    policy's floor, or the unit's own where lower: instructions at 1%).
    Other sources (the spread within a run, the benchmark's history) belong here, in order of trust.
    """
    from veracity.tracking.detect import Policy, band_floor
    from veracity.tracking.direction import plain_unit

    figure = noise.noise_for(machine, key, paired=paired)
    if figure is None:
        return None
    kind = "paired calibrated noise bands" if figure.paired else "calibrated noise bands"
    if figure.origin != CALIBRATED_HERE:
        kind += f" ({figure.origin})"
    return Band(max(band_floor(Policy(), plain_unit(unit)), figure.band), kind)


# -- asv compare / asv continuous -----------------------------------------------------------------


@dataclass(frozen=True)
class RowRule:
    """How one row of an asv comparison table is judged."""

    higher_is_better: bool
    judged: bool  # False for yardsticks and descriptive figures: never better, never worse
    factor: float | None  # from a noise band; None: asv's --factor


class _Judged(float):
    """A row's value carrying its rule from `unroll_result` to `_is_result_better` (the two only
    meet inside Compare.print_table, which passes values through unchanged)."""

    rule: RowRule

    def __new__(cls, value: float, rule: RowRule) -> _Judged:
        judged = super().__new__(cls, value)
        judged.rule = rule
        return judged


class _Table:
    """The rules of one Compare.print_table call."""

    def __init__(
        self, units: dict[str, str | None], noise: NoiseFile, machine: str | None, *, paired: bool, factor_given: bool
    ) -> None:
        self.units = units
        self.noise = noise
        self.machine = machine
        self.paired = paired
        self.factor_given = factor_given
        self.told = False

    def rule(self, key: str, name: str) -> RowRule | None:
        unit = self.units.get(key)
        if unit is None:
            return None  # left the suite: asv's own judgement
        _, higher = parse_unit(unit)
        judged = not (is_yardstick(unit) or is_descriptive(unit))
        band = noise_band(self.noise, self.machine, name, paired=self.paired, unit=unit) if self.machine else None
        if band is not None:
            self._tell(band)
        factor = None if band is None or self.factor_given else 1 + band.value
        return RowRule(higher_is_better=higher, judged=judged, factor=factor)

    def _tell(self, band: Band) -> None:
        """One line, the first time a band is known: the thresholds are not asv's blanket factor."""
        if self.told:
            return
        self.told = True
        from asv.console import log

        if self.factor_given:
            log.info(f"veracity: --factor given explicitly: {band.source} for machine {self.machine} not used")
        else:
            log.info(
                f"veracity: thresholds from {band.source} for machine {self.machine} where calibrated, "
                "--factor elsewhere (--factor given explicitly wins)"
            )

    def tag(self, key: str, name: str, value: Any) -> Any:
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
            return value
        rule = self.rule(key, name)
        return value if rule is None else _Judged(value, rule)

    def watch(self, resultset: Iterable[tuple] | None) -> Iterator[tuple] | None:
        """asv continuous hands print_table its results with their machine: note it for the bands."""
        if resultset is None:
            return None

        def watching() -> Iterator[tuple]:
            for row in resultset:
                self.machine = row[6]
                yield row

        return watching()


_TABLE: ContextVar[_Table | None] = ContextVar("veracity_asv_table", default=None)


def factor_given(argv: Sequence[str]) -> bool:
    """Whether `--factor`/`-f` is on asv's command line (asv's parser gives 1.1 either way).

    Parsed by asv's own parser with the default taken away, so abbreviations and short-flag
    clusters read as asv reads them.
    """
    from asv.commands import make_argparser

    parser, subparsers = make_argparser()
    for sub in subparsers.choices.values():
        sub.set_defaults(factor=None)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            args, _ = parser.parse_known_args(list(argv))
    except SystemExit:
        return False
    return getattr(args, "factor", None) is not None


def _units(conf: Any) -> dict[str, str | None]:
    from asv import util
    from asv.benchmarks import Benchmarks

    try:
        return {name: b.get("unit") for name, b in Benchmarks.load(conf).items()}
    except util.UserError:
        return {}  # print_table loads it too and says what is missing


def _noise(conf: Any) -> NoiseFile:
    from asv import util

    from veracity.errors import VeracityError
    from veracity.tracking.asvconf import AsvConfig

    try:
        return NoiseFile.load(AsvConfig.from_asv_conf(conf).noise_file)
    except VeracityError as exc:
        raise util.UserError(f"veracity: {exc}") from None


def _hook_print_table(original: Callable[..., Any]) -> classmethod:
    def print_table(cls, conf, hash_1, hash_2, factor, split, resultset_1=None, resultset_2=None, machine=None, **more):
        """asv's table, each row judged by its benchmark's direction and noise (see the module docstring).

        Two resultsets are what asv continuous passes (both commits measured in one run, rounds
        interleaved by default): the paired bands apply. asv compare reads results of separate runs.
        """
        table = _Table(
            _units(conf), _noise(conf), machine, paired=resultset_1 is not None, factor_given=factor_given(sys.argv[1:])
        )
        token = _TABLE.set(table)
        try:
            return original(
                cls,
                conf,
                hash_1,
                hash_2,
                factor,
                split,
                table.watch(resultset_1),
                table.watch(resultset_2),
                machine=machine,
                **more,
            )
        finally:
            _TABLE.reset(token)

    setattr(print_table, _MARK, True)
    return classmethod(print_table)


def _hook_unroll_result(original: Callable[..., Iterator[tuple]]) -> Callable[..., Iterator[tuple]]:
    def unroll_result(benchmark_name, params, *values):
        """asv's rows of one benchmark; inside print_table each value carries its row's rule."""
        table = _TABLE.get()
        for name, value, *rest in original(benchmark_name, params, *values):
            yield (name, value if table is None else table.tag(benchmark_name, name, value), *rest)

    setattr(unroll_result, _MARK, True)
    return unroll_result


def _hook_is_result_better(original: Callable[..., bool]) -> Callable[..., bool]:
    def _is_result_better(a, b, a_ss, b_ss, factor, use_stats=True):
        """Whether `a` is better than `b` for the benchmark of their row: asv's test (factor and
        statistics) in the benchmark's own direction, against its noise band where one is known."""
        rule = getattr(a, "rule", None) or getattr(b, "rule", None)
        if rule is None:
            return original(a, b, a_ss, b_ss, factor, use_stats)
        if not rule.judged:
            return False
        if rule.factor is not None:
            factor = rule.factor
        if rule.higher_is_better:
            return original(b, a, b_ss, a_ss, factor, use_stats)
        return original(a, b, a_ss, b_ss, factor, use_stats)

    setattr(_is_result_better, _MARK, True)
    return _is_result_better
