"""Read asv 0.6 result files (results/<machine>/<hash>-<env>.json, machine.json, benchmarks.json) into records.

asv's own loader is built for its commands: it warns and skips on bad files and has no notion of
direction. Here every malformed file becomes one ResultsError that names the file and what to do,
and every result carries the benchmark's direction, read from its unit.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from veracity.errors import ResultsError
from veracity.tracking.direction import is_descriptive, parse_unit, plain_unit

RESULTS_API_VERSION = 2
BENCHMARKS_API_VERSION = 2
MACHINE_API_VERSION = 1
_SKIP_FILES = {"machine.json", "benchmarks.json"}


@dataclass(frozen=True)
class BenchmarkInfo:
    """One benchmark as declared in benchmarks.json, with its direction."""

    name: str
    kind: str
    unit: str
    higher_is_better: bool
    params: tuple[tuple[str, ...], ...] = ()
    param_names: tuple[str, ...] = ()
    version: str | None = None

    @property
    def plain_unit(self) -> str:
        """The unit without the marks veracity adds (direction, yardstick, descriptive)."""
        return plain_unit(self.unit)

    @property
    def descriptive(self) -> bool:
        """A figure with no better side (see tracking.direction.descriptive): shown, never judged."""
        return is_descriptive(self.unit)

    def combinations(self) -> list[tuple[str, ...]]:
        """Every parameter combination in asv's order (one empty tuple when unparameterized)."""
        return list(itertools.product(*self.params))

    @classmethod
    def guess(cls, name: str) -> BenchmarkInfo:
        """Stand-in for a benchmark that is in results but no longer in benchmarks.json."""
        kind = name.rsplit(".", 1)[-1].split("_", 1)[0]
        unit = {"time": "seconds", "peakmem": "bytes", "mem": "bytes"}.get(kind, "unit")
        return cls(name=name, kind=kind, unit=unit, higher_is_better=False)


def benchmark_info(benchmarks: dict[str, BenchmarkInfo], name: str) -> BenchmarkInfo:
    """The declared benchmark, or a guess from its name when it has left the suite."""
    return benchmarks.get(name) or BenchmarkInfo.guess(name)


def result_key(name: str, params: tuple[str, ...]) -> str:
    """asv's display name of one parameter combination: `name(p1, p2)`, or `name` when unparameterized."""
    return f"{name}({', '.join(params)})" if params else name


def benchmark_keys(benchmarks: dict[str, BenchmarkInfo]) -> list[str]:
    """Every name a `--bench` pattern or a targets/triage glob can match: each benchmark's name and
    each of its `name(params)` combinations."""
    return [
        k for info in benchmarks.values() for k in (info.name, *(result_key(info.name, c) for c in info.combinations()))
    ]


@dataclass(frozen=True)
class BenchmarkResult:
    """One value of one benchmark (one parameter combination) on one commit, machine and environment.

    `value` is None when the benchmark failed and NaN when it was skipped. `samples` are the raw
    timings that `asv run --record-samples` keeps; track_ benchmarks never have any.
    """

    benchmark: str
    params: tuple[str, ...]
    value: float | None
    samples: tuple[float, ...] | None
    commit: str
    machine: str
    env_name: str
    date: int | None = None
    version: str | None = None

    @property
    def key(self) -> str:
        return result_key(self.benchmark, self.params)

    @property
    def ok(self) -> bool:
        """True when the benchmark produced a number (not failed, not skipped)."""
        return self.value is not None and not math.isnan(self.value)


@dataclass(frozen=True)
class ResultFile:
    """The content of one asv result file: one commit, machine and environment."""

    path: Path
    commit: str
    machine: str
    env_name: str
    date: int | None
    results: tuple[BenchmarkResult, ...]


def _bad(path: Path, why: str) -> ResultsError:
    return ResultsError(f"{path}: {why}; delete the file or re-run `asv run` for that commit")


def _read_json(path: Path, api_version: int | None) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path} not found; run `asv run` first") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, f"cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise _bad(path, f"is truncated or not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise _bad(path, "does not hold a JSON object")
    if api_version is not None and data.get("version") != api_version:
        raise ResultsError(
            f"{path} has format version {data.get('version')!r}, this tracker reads version {api_version} "
            "(asv 0.6); run `asv update` or re-run `asv run`"
        )
    return data


def _as_float(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"not a number: {value!r}")
    return float(value)


def _combo_list(raw: object, n: int) -> list:
    """A per-combination list from asv's storage, where None stands for 'all None'."""
    if raw is None:
        return [None] * n
    if not isinstance(raw, list) or len(raw) != n:
        raise TypeError(f"expected a list of {n} entries, got {raw!r:.80}")
    return raw


def parse_result_file(path: Path, machine: str | None = None) -> ResultFile:
    """Parse one result file; raise ResultsError naming it when it is corrupt or of another version."""
    data = _read_json(path, RESULTS_API_VERSION)
    try:
        commit = data["commit_hash"]
        env_name = data["env_name"]
        params = data["params"]
        columns = data["result_columns"]
        rows = data["results"]
        date = data.get("date")
        if not isinstance(commit, str) or not commit or not isinstance(env_name, str):
            raise TypeError("commit_hash and env_name must be strings")
        if not isinstance(params, dict) or not isinstance(columns, list) or not isinstance(rows, dict):
            raise TypeError("params, result_columns and results have the wrong types")
        if date is not None and (isinstance(date, bool) or not isinstance(date, int | float)):
            raise TypeError("date must be a number")
        file_machine = params.get("machine")
        if not isinstance(file_machine, str):
            raise TypeError("params.machine must be a string")
        if machine is not None and file_machine != machine:
            raise TypeError(f"it is for machine {file_machine!r}, not {machine!r}")
        results: list[BenchmarkResult] = []
        for name, row in rows.items():
            if not isinstance(row, list):
                raise TypeError(f"results[{name!r}] is not a list")
            cells = dict(zip(columns, row, strict=False))
            bench_params = cells.get("params") or []
            if not isinstance(bench_params, list) or not all(isinstance(p, list) for p in bench_params):
                raise TypeError(f"results[{name!r}] params are not lists")
            combos = list(itertools.product(*[[str(v) for v in p] for p in bench_params]))
            values = _combo_list(cells.get("result"), len(combos))
            samples = _combo_list(cells.get("samples"), len(combos))
            version = cells.get("version")
            for combo, value, sample in zip(combos, values, samples, strict=True):
                sample_tuple = None
                if sample is not None:
                    if not isinstance(sample, list):
                        raise TypeError(f"results[{name!r}] samples are not lists")
                    sample_tuple = tuple(s for s in (_as_float(x) for x in sample) if s is not None)
                results.append(
                    BenchmarkResult(
                        benchmark=str(name),
                        params=tuple(combo),
                        value=_as_float(value),
                        samples=sample_tuple or None,
                        commit=commit,
                        machine=file_machine,
                        env_name=env_name,
                        date=int(date) if date is not None and math.isfinite(date) else None,
                        version=version if isinstance(version, str) else None,
                    )
                )
    except (KeyError, TypeError, ValueError) as exc:
        raise _bad(path, f"is malformed ({exc})") from None
    return ResultFile(path, commit, file_machine, env_name, results[0].date if results else None, tuple(results))


def parse_benchmarks_json(path: Path) -> dict[str, BenchmarkInfo]:
    """Read benchmarks.json: name -> BenchmarkInfo with direction from the unit."""
    data = _read_json(path, BENCHMARKS_API_VERSION)
    out: dict[str, BenchmarkInfo] = {}
    try:
        for name, entry in data.items():
            if name == "version":
                continue
            if not isinstance(entry, dict):
                raise TypeError(f"{name!r} is not an object")
            unit, higher = parse_unit(entry.get("unit") if isinstance(entry.get("unit"), str) else None)
            params = entry.get("params") or []
            names = entry.get("param_names") or []
            if not isinstance(params, list) or not all(isinstance(p, list) for p in params):
                raise TypeError(f"{name!r} params are not lists")
            out[name] = BenchmarkInfo(
                name=name,
                kind=str(entry.get("type", name.rsplit(".", 1)[-1].split("_", 1)[0])),
                unit=unit,
                higher_is_better=higher,
                params=tuple(tuple(str(v) for v in p) for p in params),
                param_names=tuple(str(n) for n in names),
                version=entry.get("version") if isinstance(entry.get("version"), str) else None,
            )
    except (TypeError, ValueError) as exc:
        raise ResultsError(f"{path} is malformed ({exc}); re-run `asv run` to rewrite it") from None
    return out


class ResultsStore:
    """All results under an asv results_dir, read lazily and checked file by file."""

    def __init__(self, results_dir: Path) -> None:
        self.results_dir = Path(results_dir)
        self._benchmarks: dict[str, BenchmarkInfo] | None = None
        self._files: dict[str, list[ResultFile]] = {}

    def benchmarks(self) -> dict[str, BenchmarkInfo]:
        if self._benchmarks is None:
            self._benchmarks = parse_benchmarks_json(self.results_dir / "benchmarks.json")
        return self._benchmarks

    def info(self, name: str) -> BenchmarkInfo:
        return benchmark_info(self.benchmarks(), name)

    def machines(self) -> list[str]:
        if not self.results_dir.is_dir():
            raise ResultsError(f"no results in {self.results_dir}; run `asv run` first")
        names = []
        for machine_json in sorted(self.results_dir.glob("*/machine.json")):
            data = _read_json(machine_json, MACHINE_API_VERSION)
            name = data.get("machine")
            if not isinstance(name, str):
                raise _bad(machine_json, "has no machine name")
            names.append(name)
        return names

    def pick_machine(self, machine: str | None) -> str:
        """The machine to report on: the one given, or the only one there is."""
        machines = self.machines()
        if machine is not None:
            if machine not in machines:
                known = ", ".join(machines) or "none"
                raise ResultsError(f"no results for machine {machine!r} (known: {known}); check --machine")
            return machine
        if not machines:
            raise ResultsError(f"no results in {self.results_dir}; run `asv run` first")
        if len(machines) > 1:
            raise ResultsError(f"results for several machines ({', '.join(machines)}); choose one with --machine")
        return machines[0]

    def result_files(self, machine: str) -> list[ResultFile]:
        if machine not in self._files:
            folder = self.results_dir / machine
            files = [
                parse_result_file(p, machine)
                for p in sorted(folder.glob("*.json"))
                if p.name not in _SKIP_FILES and not p.name.startswith(".")
            ]
            self._files[machine] = files
        return self._files[machine]

    def commits(self, machine: str) -> dict[str, int | None]:
        """Full commit hash -> commit date (ms) for every commit with results on `machine`."""
        out: dict[str, int | None] = {}
        for f in self.result_files(machine):
            out.setdefault(f.commit, f.date)
        return out

    def resolve_commit(self, machine: str, name: str) -> str | None:
        """The full hash of the results whose commit starts with `name`, or None."""
        matches = {c for c in self.commits(machine) if c.startswith(name.lower())}
        if len(matches) > 1:
            raise ResultsError(f"commit prefix {name!r} matches several results ({', '.join(sorted(matches))})")
        return next(iter(matches), None)

    def results_for(self, machine: str, commit: str) -> list[BenchmarkResult]:
        return [r for f in self.result_files(machine) if f.commit == commit for r in f.results]
