"""The hook on `asv find`: a higher-is-better benchmark is searched for its fall, as `--invert` would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from veracity.tracking.asv_commands.compare import _MARK
from veracity.tracking.direction import parse_unit

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
