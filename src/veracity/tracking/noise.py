"""Calibrated noise bands: how far the same code's result moves between runs, per machine and benchmark.

The band of a benchmark is a relative change (0.08 = 8%) that an A/A pair of runs of one commit
may show on that machine. Detection ignores any change inside it. The file is committed (by
default benchmarks/noise.json) so CI and every developer judge with the same bands.

Two bands per benchmark, because two kinds of comparison happen:
- `band`: across asv runs (`make bench` measures each commit as it lands; `veracity regressions`
  and the published site compare it with commits measured hours earlier), so the run-to-run drift
  of the machine is in it;
- `paired`: two commits measured in one asv run with their rounds interleaved (`asv continuous`,
  `veracity continuous`), calibrated from the commit and a twin of it (same tree) run together, so
  only what differs between two interleaved measurements is in it. It is usually far narrower.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from veracity.errors import TrackingFileError
from veracity.fsutil import atomic_write_text
from veracity.tracking.stats import log_std, relative_spread, sd_upper_limit_factor

NOISE_FILE_VERSION = 1
# A band from a handful of runs underestimates the spread; widen it by this z for a difference of two runs.
BAND_Z = 3.0
MIN_BAND = 0.01
# For a paired band the log-ratios of twin pairs are measured directly (no sqrt(2)): z of their RMS.
PAIRED_Z = 3.0


@dataclass(frozen=True)
class NoiseBand:
    """The A/A band of one benchmark (one parameter combination) on one machine."""

    key: str
    band: float
    runs: int
    cv: float
    spread: float
    paired: float | None = None
    pairs: int = 0


@dataclass(frozen=True)
class MachineNoise:
    """Every band calibrated on one machine, with where and when."""

    machine: str
    commit: str
    calibrated_at: str
    bands: Mapping[str, NoiseBand] = field(default_factory=dict)


def estimate_band(key: str, run_values: Sequence[float]) -> NoiseBand:
    """Band from the per-run values of one commit: the larger of the widest A/A ratio seen and z*sqrt(2)*CV."""
    values = [v for v in run_values if v is not None and math.isfinite(v) and v > 0]
    cv = log_std(values)
    spread = relative_spread(values)
    band = max(MIN_BAND, spread, math.expm1(BAND_Z * math.sqrt(2) * cv))
    return NoiseBand(key=key, band=round(band, 6), runs=len(values), cv=round(cv, 6), spread=round(spread, 6))


def estimate_paired_band(band: NoiseBand, twin_ratios: Sequence[float]) -> NoiseBand:
    """Add the paired band from the ratios commit/twin of one benchmark, one ratio per asv run.

    The larger of the widest ratio seen and PAIRED_Z times the RMS of the log-ratios around zero
    (twins have the same code, so any departure from 1 is noise).
    """
    logs = [math.log(r) for r in twin_ratios if r is not None and math.isfinite(r) and r > 0]
    if not logs:
        return band
    rms = math.sqrt(sum(x * x for x in logs) / len(logs))
    widest = math.expm1(max(abs(x) for x in logs))
    paired = max(MIN_BAND, widest, math.expm1(PAIRED_Z * rms))
    return NoiseBand(
        key=band.key,
        band=band.band,
        runs=band.runs,
        cv=band.cv,
        spread=band.spread,
        paired=round(paired, 6),
        pairs=len(logs),
    )


def _band_json(band: NoiseBand) -> dict[str, float | int]:
    return {f: v for f, v in asdict(band).items() if f != "key" and not (f == "paired" and v is None)}


CALIBRATED_HERE = "calibrated on this machine"


@dataclass(frozen=True)
class NoiseFigure:
    """A band to judge against, and where it came from (`origin`: CALIBRATED_HERE, the class prior, or
    this machine's own history of `commits` commits)."""

    band: float
    paired: bool
    origin: str
    commits: int = 0  # > 0: estimated from this many commits of this machine's history (history_figure)

    @property
    def calibrated_here(self) -> bool:
        return self.origin == CALIBRATED_HERE

    @property
    def source(self) -> str:
        """In words, for every report: `paired band calibrated on this machine`."""
        return f"{'paired band' if self.paired else 'band'} {self.origin}"


# A band from this machine's history needs at least this many commits before the change it judges:
# fewer cannot tell noise from a change (conbench and Bencher likewise wait for a minimum sample).
MIN_HISTORY = 5
# ... and reads at most this many: more commits estimate the noise better, older ones are another machine state.
HISTORY_LOOKBACK = 10
# Above the calibration's BAND_Z: a band from a handful of commits is itself uncertain (conbench uses 5).
# Simulated on normal noise (5-10 commits, CV 1-5%): 0.1-0.7% of A/A commits flagged at 4, 0.6-1.3% at 3.
HISTORY_Z = 4.0
_MAD_TO_SIGMA = 1.4826  # the median of |x| for x normal around 0 is 0.6745 sigma


def history_figure(values: Sequence[float]) -> NoiseFigure | None:
    """The band of one benchmark from its per-commit values on this machine, oldest first; None with fewer
    than MIN_HISTORY positive values.

    What `estimate_band` makes of a calibration's runs, made robust to the real changes a history holds
    and a calibration does not. It reads the differences of successive log-values: a step between two
    commits moves one difference only, so a real change barely widens the band it is judged against.
    The band is the larger of a high difference that is not the widest (the widest may be a step: the
    second widest, the third from 9 differences on) and HISTORY_Z times their robust sigma (1.4826 x
    their median; a difference of two runs already carries the sqrt(2) of `estimate_band`). A slow
    drift of the machine shows little between successive commits: yardsticks watch for that
    (tracking.drift). `judge` floors the band as it floors a calibrated one (3%, or the unit's floor),
    which keeps deterministic figures (recall, counts, traced bytes), whose history has no spread at
    all, from flagging their last digit.
    """
    logs = [math.log(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    if len(logs) < MIN_HISTORY:
        return None
    steps = sorted(abs(b - a) for a, b in itertools.pairwise(logs))
    sigma = _MAD_TO_SIGMA * statistics.median(steps)
    guard = steps[-1 - max(1, len(steps) // 4)]
    band = max(math.expm1(guard), math.expm1(HISTORY_Z * sigma))
    return NoiseFigure(round(band, 6), False, f"from the history of {len(logs)} commits on this machine", len(logs))


def _figure(entry: NoiseBand, paired: bool, origin: str) -> NoiseFigure:
    if paired and entry.paired is not None:
        return NoiseFigure(entry.paired, True, origin)
    return NoiseFigure(entry.band, False, origin)


def prior_figure(entry: NoiseBand, paired: bool, origin: str) -> NoiseFigure | None:
    """`entry`, calibrated on another machine, as a prior here: its band widened by the uncertainty of
    the few runs it came from; None where it came from too few to say anything (one run, no pairs).

    A band from 4-6 runs in one quiet hour is an estimate of a sigma with 3-5 degrees of freedom: at 95%
    confidence the true sigma may be 2.1-2.9 times it (`sd_upper_limit_factor`). On the machine where
    the band was calibrated it is used as it is (its own runs made it, and the campaigns there were
    judged with it). On another machine of the class a band taken at its word listed 4 false
    regressions over 5 twin commits (docs/detection.md): so the prior is the upper limit, applied to
    the log of the band. The
    paired band is an RMS of `pairs` log-ratios around zero (`pairs` degrees of freedom), the other one
    a sample sigma of `runs` values (`runs - 1`).
    """
    use_paired = paired and entry.paired is not None
    band = entry.paired if use_paired else entry.band
    runs = entry.pairs if use_paired else entry.runs
    factor = sd_upper_limit_factor(runs if use_paired else runs - 1)
    if band is None or not math.isfinite(factor):
        return None
    widened = round(math.expm1(math.log1p(band) * factor), 6)
    what = "pairs" if use_paired else "runs"
    return NoiseFigure(widened, use_paired, f"{origin}: {band:.1%} from {runs} {what}, widened to {widened:.1%}")


def prior_contradiction(values: Sequence[float], prior: NoiseFigure) -> str:
    """Why this machine's own values of a benchmark (its commits before the one judged) rule out a class
    `prior`: they spread wider than its band, which the prior's machine, widened for its few runs, would
    rarely show; "" where they do not.

    A prior is borrowed; this machine may be noisier than the one it was calibrated on, and a few
    commits of its own show that before there are enough to estimate a band from. The highest load
    rate under the p99 bound moved 35.6, 35.2, 29.1, 29.4 claims/s over four twin commits on one
    machine while its class prior said 2.3%: judged by it, the fifth commit's 26.6 was a regression
    that `veracity continuous` did not confirm. A real step among those commits rules the prior out
    as well: then the history is not a clean reference either, and "not enough history" is the truth.
    """
    spread = relative_spread(values)
    if spread <= prior.band:
        return ""
    return f"the {len(values)} commits before the latest spread {spread:.1%}, past the class prior's {prior.band:.1%}"


# `veracity bench` names a machine `<cpu model>-<cores>c-<isa>[-<gpu>...]` (tracking.machine).
_MACHINE_NAME = re.compile(
    r"^(?P<cpu>[a-z0-9-]+)-(?P<cores>\d+)c-(?P<isa>avx512|avx2|x86_64|aarch64|arm64|ppc64le|s390x)(?P<gpu>-.+)?$"
)


def hardware_class(machine: str) -> str | None:
    """The hardware class of a machine named as veracity names machines: CPU vendor and family (the
    first two words of the model), cores, ISA level and any GPU; None for a name of another form.

    `amd-epyc-7b13-2c-avx2` and `amd-epyc-9r14-2c-avx2` are one class, `amd-epyc-2c-avx2`: their
    bands may stand in for each other until a machine has its own.
    """
    found = _MACHINE_NAME.match(machine)
    if not found:
        return None
    family = "-".join(found["cpu"].split("-")[:2])
    return f"{family}-{found['cores']}c-{found['isa']}{found['gpu'] or ''}"


class NoiseFile:
    """The committed noise file: machine -> benchmark key -> band."""

    def __init__(self, path: Path, machines: dict[str, MachineNoise] | None = None) -> None:
        self.path = Path(path)
        self.machines: dict[str, MachineNoise] = machines or {}

    @classmethod
    def load(cls, path: Path) -> NoiseFile:
        """Read the file; a missing file is an empty one (no machine calibrated yet)."""
        path = Path(path)
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("version") != NOISE_FILE_VERSION:
                raise ValueError(f"expected an object with version {NOISE_FILE_VERSION}")
            machines = {}
            for machine, entry in data["machines"].items():
                bands = {
                    key: NoiseBand(
                        key=key,
                        band=float(b["band"]),
                        runs=int(b["runs"]),
                        cv=float(b.get("cv", 0.0)),
                        spread=float(b.get("spread", 0.0)),
                        paired=float(b["paired"]) if b.get("paired") is not None else None,
                        pairs=int(b.get("pairs", 0)),
                    )
                    for key, b in entry["bands"].items()
                }
                for b in bands.values():
                    if not (math.isfinite(b.band) and 0 < b.band < 1):
                        raise ValueError(f"band of {b.key!r} is {b.band}, not a fraction in (0, 1)")
                    if b.paired is not None and not (math.isfinite(b.paired) and 0 < b.paired < 1):
                        raise ValueError(f"paired band of {b.key!r} is {b.paired}, not a fraction in (0, 1)")
                machines[machine] = MachineNoise(
                    machine=machine,
                    commit=str(entry.get("commit", "")),
                    calibrated_at=str(entry.get("calibrated_at", "")),
                    bands=bands,
                )
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TrackingFileError(
                f"{path} is not a valid noise file ({exc}); fix it or re-create it with `veracity calibrate`"
            ) from None
        return cls(path, machines)

    def band(self, machine: str, key: str) -> NoiseBand | None:
        entry = self.machines.get(machine)
        return entry.bands.get(key) if entry else None

    def noise_for(self, machine: str, key: str, *, paired: bool = False) -> NoiseFigure | None:
        """The band to judge `key` on `machine` against and where it came from; None where none is known.

        `paired`: the two sides were measured in one asv run with interleaved rounds, so the paired
        band applies where one was calibrated; otherwise (and always for results of separate asv
        runs) the across-runs band. A machine with no band of its own borrows one calibrated on a
        machine of the same hardware class (see `hardware_class`), widened (`prior_figure`), and says so.
        """
        own = self.band(machine, key)
        if own is not None:
            return _figure(own, paired, CALIBRATED_HERE)
        kind = hardware_class(machine)
        if kind is None:
            return None
        for other in sorted(self.machines):
            entry = self.band(other, key)
            if other != machine and entry is not None and hardware_class(other) == kind:
                figure = prior_figure(entry, paired, f"prior from class {kind} (calibrated on {other})")
                if figure is not None:
                    return figure
        return None

    def band_for(self, machine: str, key: str, *, paired: bool = False) -> float | None:
        """The band of `noise_for`, without its source."""
        figure = self.noise_for(machine, key, paired=paired)
        return figure.band if figure else None

    def update(self, machine: str, commit: str, bands: Sequence[NoiseBand], drop: Sequence[str] = ()) -> None:
        """Replace the bands of the calibrated benchmarks on `machine`, keeping the others.

        `drop`: benchmarks this calibration measured and found too noisy for a band; an older band of
        theirs would judge by a noise figure the machine no longer shows, so it goes too.
        """
        old = self.machines.get(machine)
        merged = dict(old.bands) if old else {}
        for key in drop:
            merged.pop(key, None)
        merged.update({b.key: b for b in bands})
        now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
        self.machines[machine] = MachineNoise(machine=machine, commit=commit, calibrated_at=now, bands=merged)

    def save(self) -> None:
        data = {
            "version": NOISE_FILE_VERSION,
            "machines": {
                name: {
                    "commit": m.commit,
                    "calibrated_at": m.calibrated_at,
                    "bands": {k: _band_json(b) for k, b in sorted(m.bands.items())},
                }
                for name, m in sorted(self.machines.items())
            },
        }
        atomic_write_text(self.path, json.dumps(data, indent=2, sort_keys=False) + "\n")
