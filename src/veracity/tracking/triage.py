"""The committed triage file: regressions a person has accepted, one regression an entry.

An entry accepts one regression, as CodSpeed and Bencher acknowledge one alert rather than mute a
benchmark: the benchmark (its exact `name(params)`; a glob only with a stated `glob_reason`), the
commit (or range `A..B`) it landed in, and the level accepted (`level`, in the benchmark's unit;
by default the value measured at that commit). An accepted regression stays in every report,
marked as such, but no longer fails CI. A later change past the accepted level by more than the
noise is a new regression and fails CI; an entry whose regression no longer exists, or that
matches nothing, is reported as stale; when the expiry passes, the regression counts again.
The file is TOML (default benchmarks/triage.toml):

    [[accepted]]
    benchmark = "embedding.EncodeThroughput.track_texts_per_second"
    commit = "5605eb6"          # where the regression landed (a hash prefix, or A..B)
    level = 180.0               # optional: the accepted value; default the value at `commit`
    reason = "fp32 fallback on CPUs without AVX-512, see #42"
    expires = 2026-12-31
    machine = "ci-runner"       # optional: only on this machine
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from veracity.errors import TrackingFileError


def matches_benchmark(pattern: str, key: str) -> bool:
    """Whether a glob on `name(params)` (triage and targets files) matches a result key: whole, or its name alone."""
    return fnmatch.fnmatchcase(key, pattern) or fnmatch.fnmatchcase(key.split("(", 1)[0], pattern)


GLOB_CHARACTERS = frozenset("*?[")


def is_glob(pattern: str) -> bool:
    return bool(GLOB_CHARACTERS & set(pattern))


@dataclass(frozen=True)
class Acceptance:
    """One accepted regression: which benchmark, where it landed, at what level, why, until when."""

    benchmark: str
    commit: str
    reason: str
    expires: dt.date
    machine: str | None = None
    level: float | None = None
    glob_reason: str | None = None

    def matches(self, key: str, machine: str) -> bool:
        if self.machine is not None and self.machine != machine:
            return False
        return matches_benchmark(self.benchmark, key)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def commits_in(self, ordered: Sequence[str]) -> list[int]:
        """Indexes in `ordered` (full hashes, oldest first) of the commits this entry names: the one
        its hash prefix names, or for `A..B` those after A up to and including B."""
        first, dots, last = self.commit.partition("..")
        if not dots:
            return [i for i, c in enumerate(ordered) if c.startswith(self.commit)]
        starts = [i for i, c in enumerate(ordered) if c.startswith(first)]
        ends = [i for i, c in enumerate(ordered) if c.startswith(last)]
        if not starts or not ends:
            return []
        return list(range(starts[0] + 1, ends[-1] + 1))


@dataclass(frozen=True)
class Triage:
    path: Path | None
    accepted: tuple[Acceptance, ...] = ()

    def candidates(self, key: str, machine: str, today: dt.date | None = None) -> list[Acceptance]:
        """The unexpired entries whose benchmark pattern covers `key` on `machine`."""
        today = today or dt.date.today()
        return [e for e in self.accepted if e.matches(key, machine) and not e.expired(today)]


def load_triage(path: Path | None) -> Triage:
    """Read the triage file; a missing file accepts nothing."""
    if path is None or not Path(path).exists():
        return Triage(path)
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        entries = data.get("accepted", [])
        if not isinstance(entries, list):
            raise ValueError("`accepted` must be an array of tables ([[accepted]])")
        accepted = []
        for i, entry in enumerate(entries, 1):
            if not isinstance(entry, dict):
                raise ValueError(f"entry {i} is not a table")
            bench, reason, expires = entry.get("benchmark"), entry.get("reason"), entry.get("expires")
            if not isinstance(bench, str) or not bench:
                raise ValueError(f'entry {i} needs benchmark = "name(params)" of the regressed benchmark')
            commit, level, glob_reason = entry.get("commit"), entry.get("level"), entry.get("glob_reason")
            first, dots, last = commit.strip().partition("..") if isinstance(commit, str) else ("", "", "")
            if not first or (dots and not last):
                raise ValueError(
                    f'entry {i} ({bench}) needs commit = "<hash>" (or "A..B"): where the accepted regression landed'
                )
            if is_glob(bench) and not (isinstance(glob_reason, str) and glob_reason.strip()):
                raise ValueError(
                    f"entry {i} ({bench}) is a glob: name one benchmark, or say why one entry covers several "
                    'with glob_reason = "..."'
                )
            if level is not None and (isinstance(level, bool) or not isinstance(level, int | float)):
                raise ValueError(f"entry {i} ({bench}): level must be a number in the benchmark's unit")
            if not isinstance(reason, str) or not reason.strip():
                raise ValueError(f"entry {i} ({bench}) needs a reason")
            if isinstance(expires, dt.datetime):
                expires = expires.date()
            if not isinstance(expires, dt.date):
                raise ValueError(f"entry {i} ({bench}) needs expires = YYYY-MM-DD (a TOML date, no quotes)")
            machine = entry.get("machine")
            if machine is not None and not isinstance(machine, str):
                raise ValueError(f"entry {i} ({bench}): machine must be a string")
            accepted.append(
                Acceptance(
                    bench,
                    commit.strip(),
                    reason.strip(),
                    expires,
                    machine,
                    None if level is None else float(level),
                    glob_reason.strip() if isinstance(glob_reason, str) else None,
                )
            )
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise TrackingFileError(f"{path}: {exc}; fix the triage file") from None
    return Triage(path, tuple(accepted))
