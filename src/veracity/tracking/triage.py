"""The committed triage file: regressions a person has accepted, each with a reason and an expiry.

An accepted regression stays in every report, marked as such, but no longer fails CI. When the
expiry passes, it counts again. The file is TOML (default benchmarks/triage.toml):

    [[accepted]]
    benchmark = "embedding.EncodeThroughput.track_texts_per_second*"  # glob on `name(params)`
    reason = "fp32 fallback on CPUs without AVX-512, see #42"
    expires = 2026-12-31
    machine = "ci-runner"  # optional: only on this machine
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path

from veracity.errors import TrackingFileError


def matches_benchmark(pattern: str, key: str) -> bool:
    """Whether a glob on `name(params)` (triage and targets files) matches a result key: whole, or its name alone."""
    return fnmatch.fnmatchcase(key, pattern) or fnmatch.fnmatchcase(key.split("(", 1)[0], pattern)


@dataclass(frozen=True)
class Acceptance:
    """One accepted regression pattern."""

    benchmark: str
    reason: str
    expires: dt.date
    machine: str | None = None

    def matches(self, key: str, machine: str) -> bool:
        if self.machine is not None and self.machine != machine:
            return False
        return matches_benchmark(self.benchmark, key)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires


@dataclass(frozen=True)
class Triage:
    path: Path | None
    accepted: tuple[Acceptance, ...] = ()

    def lookup(self, key: str, machine: str, today: dt.date | None = None) -> Acceptance | None:
        """The unexpired acceptance covering `key` on `machine`, if any."""
        today = today or dt.date.today()
        for entry in self.accepted:
            if entry.matches(key, machine) and not entry.expired(today):
                return entry
        return None


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
                raise ValueError(f'entry {i} needs benchmark = "name or glob"')
            if not isinstance(reason, str) or not reason.strip():
                raise ValueError(f"entry {i} ({bench}) needs a reason")
            if isinstance(expires, dt.datetime):
                expires = expires.date()
            if not isinstance(expires, dt.date):
                raise ValueError(f"entry {i} ({bench}) needs expires = YYYY-MM-DD (a TOML date, no quotes)")
            machine = entry.get("machine")
            if machine is not None and not isinstance(machine, str):
                raise ValueError(f"entry {i} ({bench}): machine must be a string")
            accepted.append(Acceptance(bench, reason.strip(), expires, machine))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ValueError) as exc:
        raise TrackingFileError(f"{path}: {exc}; fix the triage file") from None
    return Triage(path, tuple(accepted))
