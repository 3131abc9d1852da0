"""Plain `asv compare`, `asv continuous` and `asv find` judged the way veracity judges.

asv judges every benchmark lower-is-better: a throughput or recall drop is marked `-` (better),
`asv continuous` closes "PERFORMANCE INCREASED." with exit 0 on it, and `asv find` hunts for a
rise. asv imports the modules named in asv.conf.json's `"plugins"` (calling their `setup()`)
before a command does its work, so the plugin (tracking.asv_plugin) installs the hooks here, and
the commands people already type give veracity's verdicts:

- `Compare.print_table` (asv compare and asv continuous both judge through it): for one table it
  reads each benchmark's unit from benchmarks.json and the noise band veracity knows for the
  machine; `unroll_result`, which it calls per benchmark, tags each row's value with that rule;
  `_is_result_better`, which it calls per row, flips the comparison for a higher-is-better value,
  never calls a yardstick or a descriptive figure better or worse, and uses the band as the factor
  where one is known (`--factor` given explicitly wins). Marks, `--split` groups, the closing line
  and continuous's exit code follow from those verdicts, as asv derives them.
- `Find.run`: a higher-is-better benchmark is searched for its fall, as `--invert` would, and the
  result is named a regression.

The hooks are for the pinned asv (PINNED_ASV, as constraints.txt pins it). `install` checks the
version and every hook target (present, with the signature the hook expects) first; on any
mismatch it installs nothing and logs one warning line, so plain asv keeps its own verdicts and
never half of ours.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from veracity.tracking.direction import is_descriptive, is_yardstick, parse_unit
from veracity.tracking.noise import CALIBRATED_HERE, NoiseFile

PINNED_ASV = "0.6.6"
_MARK = "__veracity_hook__"

# The parameters each hook target has in the pinned asv (classmethods without `cls`).
EXPECTED_SIGNATURES: dict[str, tuple[str, ...]] = {
    "compare._is_result_better": ("a", "b", "a_ss", "b_ss", "factor", "use_stats"),
    "compare.unroll_result": ("benchmark_name", "params", "values"),
    "compare.Compare.print_table": (
        "conf",
        "hash_1",
        "hash_2",
        "factor",
        "split",
        "resultset_1",
        "resultset_2",
        "machine",
        "only_changed",
        "sort",
        "use_stats",
        "env_names",
        "commit_names",
    ),
    "find.Find.run": (
        "conf",
        "range_spec",
        "bench",
        "invert",
        "show_stderr",
        "parallel",
        "machine",
        "env_spec",
        "_machine_file",
        "launch_method",
        "skip_save",
    ),
    "find.Benchmarks.discover": ("conf", "repo", "environments", "commit_hash", "regex", "check"),
}


# -- noise thresholds ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """A benchmark's noise threshold on one machine (0.04 = 4%) and where veracity got it."""

    value: float
    source: str


def noise_band(noise: NoiseFile, machine: str, key: str, *, paired: bool) -> Band | None:
    """The threshold veracity judges `key` on `machine` against, and its source; None where none is known.

    The one place the asv hooks ask for noise: a calibrated band (the paired one for two commits
    measured in one asv run, as asv continuous measures them), floored as veracity floors it.
    Other sources (the spread within a run, the benchmark's history) belong here, in order of trust.
    """
    from veracity.tracking.detect import Policy

    figure = noise.noise_for(machine, key, paired=paired)
    if figure is None:
        return None
    kind = "paired calibrated noise bands" if figure.paired else "calibrated noise bands"
    if figure.origin != CALIBRATED_HERE:
        kind += f" ({figure.origin})"
    return Band(max(Policy().calibrated_floor, figure.band), kind)


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
        band = noise_band(self.noise, self.machine, name, paired=self.paired) if self.machine else None
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


# -- asv find -------------------------------------------------------------------------------------


class _Restart(Exception):
    """Find.run fixed `invert` before it discovered the benchmark's unit: run it again, inverted."""

    def __init__(self, benchmarks: Any, name: str) -> None:
        super().__init__(name)
        self.benchmarks = benchmarks
        self.name = name


def _chosen(benchmarks: Any, bench: str) -> str | None:
    """The benchmark Find.run will search, picked as it picks: the only match, else the exact one."""
    names = list(benchmarks.keys())
    if len(names) == 1:
        return names[0]
    return bench if bench in names else None


class _Discovery:
    """Stands for asv's Benchmarks in asv.commands.find during one Find.run: its discovery says
    whether the benchmark is higher-is-better, which decides `invert` (read before discovery)."""

    def __init__(self, real: Any, bench: str, *, inverted: bool, found: Any = None) -> None:
        self.real, self.bench, self.inverted, self.found = real, bench, inverted, found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def discover(self, *args: Any, **kwargs: Any) -> Any:
        found = self.found if self.found is not None else self.real.discover(*args, **kwargs)
        name = _chosen(found, self.bench)
        if not self.inverted and name is not None and parse_unit(found[name].get("unit"))[1]:
            raise _Restart(found, name)
        return found


class _RegressionLog:
    """asv's log in asv.commands.find while it searches for a fall: asv names what it found an
    "improvement" when inverted; of a higher-is-better benchmark the fall is the regression."""

    def __init__(self, real: Any, name: str) -> None:
        self.real, self.name = real, name

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.real, attr)

    def info(self, msg: str, *args: Any, **kwargs: Any) -> Any:
        prefix = "Greatest improvement found: "
        if isinstance(msg, str) and msg.startswith(prefix):
            msg = (
                f"Greatest regression found: {msg[len(prefix) :]} (the steepest fall of {self.name}, higher is better)"
            )
        return self.real.info(msg, *args, **kwargs)


def _hook_find_run(original: Callable[..., Any]) -> classmethod:
    from asv.commands import find as find_module

    def run(cls, conf, range_spec, bench, invert=False, **more):
        """asv find; a higher-is-better benchmark is searched for its fall, as --invert would."""
        real = find_module.Benchmarks
        try:
            find_module.Benchmarks = _Discovery(real, bench, inverted=invert)
            try:
                return original(cls, conf, range_spec, bench, invert=invert, **more)
            except _Restart as restart:
                find_module.log.info(f"veracity: {restart.name} is higher-is-better: searching for its fall")
                find_module.Benchmarks = _Discovery(real, bench, inverted=True, found=restart.benchmarks)
                real_log = find_module.log
                find_module.log = _RegressionLog(real_log, restart.name)
                try:
                    return original(cls, conf, range_spec, bench, invert=True, **more)
                finally:
                    find_module.log = real_log
        finally:
            find_module.Benchmarks = real

    setattr(run, _MARK, True)
    return classmethod(run)


# -- install --------------------------------------------------------------------------------------


def _targets() -> dict[str, Any]:
    from asv.commands import compare, find

    return {
        "compare._is_result_better": getattr(compare, "_is_result_better", None),
        "compare.unroll_result": getattr(compare, "unroll_result", None),
        "compare.Compare.print_table": getattr(getattr(compare, "Compare", None), "print_table", None),
        "find.Find.run": getattr(getattr(find, "Find", None), "run", None),
        "find.Benchmarks.discover": getattr(getattr(find, "Benchmarks", None), "discover", None),
    }


def installed() -> bool:
    """Whether the hooks are in place in this process."""
    from asv.commands import compare

    return bool(getattr(compare._is_result_better, _MARK, False))


def hook_problem() -> str | None:
    """Why the hooks do not fit the asv installed, None when they do."""
    import asv

    version = getattr(asv, "__version__", "unknown")
    if version != PINNED_ASV:
        return f"asv {version} is installed, the direction-aware hooks are for asv {PINNED_ASV}"
    for target, obj in _targets().items():
        if not callable(obj):
            return f"asv {version} has no {target}"
        try:
            names = tuple(p.name for p in inspect.signature(obj).parameters.values())
        except (TypeError, ValueError):
            return f"the signature of asv's {target} cannot be read"
        if names != EXPECTED_SIGNATURES[target]:
            return f"asv's {target}{inspect.signature(obj)} is not what the hook expects"
    return None


def install() -> bool:
    """Install the hooks once per process; on a mismatch (or any failure) install nothing, warn in one line.

    Returns whether the hooks are in place.
    """
    from asv.console import log

    try:
        if installed():
            return True
        problem = hook_problem()
        if problem is None:
            _install()
            return True
    except Exception as exc:  # a plugin must never stop asv: plain asv runs, and says so
        problem = f"the hooks failed ({type(exc).__name__}: {exc})"
    log.warning(
        f"veracity: {problem}; plain asv compare/continuous/find judge every benchmark lower-is-better "
        "(use `veracity compare`/`veracity continuous`)"
    )
    return False


def _install() -> None:
    from asv.commands import compare, find

    print_table = _hook_print_table(compare.Compare.__dict__["print_table"].__func__)
    find_run = _hook_find_run(find.Find.__dict__["run"].__func__)
    unroll = _hook_unroll_result(compare.unroll_result)
    better = _hook_is_result_better(compare._is_result_better)
    compare.Compare.print_table = print_table
    find.Find.run = find_run
    compare.unroll_result = unroll
    compare._is_result_better = better  # last: `installed()` reads it


__all__ = [
    "EXPECTED_SIGNATURES",
    "PINNED_ASV",
    "Band",
    "RowRule",
    "factor_given",
    "hook_problem",
    "install",
    "installed",
    "noise_band",
]
