"""Soak test: run the real pipeline for N minutes and record its resident memory per minute, to catch leaks.

Run from the repo root: `.venv/bin/python scripts/soak.py --minutes 10` (the seed target is RSS growth
under 10 MB/min). It opens the pipeline once (models, embedded PostgreSQL, pgvector store) as
`veracity verify` does, then verifies the shipped claims in a loop. After one warm-up pass it samples
the process's RSS every `--interval` seconds and fits a least-squares line through the samples: its
slope is the growth per minute. The result, with the CPU it ran on, goes to a JSON file; the exit
code is 1 when the slope reaches the target.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import psutil
from tqdm import tqdm

from veracity.config import Settings
from veracity.data import load_claims
from veracity.pipeline.session import open_pipeline
from veracity.tracking.machine import current

TARGET_MB_PER_MIN = 10.0
MB = 1024 * 1024


@dataclass(frozen=True)
class Sample:
    """RSS of the process at one moment of the soak, and the claims verified so far."""

    seconds: float
    rss_mb: float
    claims: int


def slope_per_minute(samples: list[Sample]) -> float:
    """Least-squares slope of RSS over time, in MB per minute (0 with fewer than two samples)."""
    if len(samples) < 2:
        return 0.0
    xs = [s.seconds / 60 for s in samples]
    ys = [s.rss_mb for s in samples]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def _rss_mb(process: psutil.Process) -> float:
    gc.collect()  # count what is still referenced, not garbage awaiting collection
    return process.memory_info().rss / MB


def soak(settings: Settings, minutes: float, interval_s: float, limit: int | None = None) -> tuple[list[Sample], float]:
    """Verify the shipped claims in a loop for `minutes` after a warm-up pass; RSS samples and warm-up RSS."""
    process = psutil.Process()
    claims = [c.claim for c in load_claims()][:limit]
    with open_pipeline(settings, show_progress=True) as verifier:
        for _ in verifier.verify_many(claims):  # warm-up: caches, prepared statements, allocator pools
            pass
        warm_rss = _rss_mb(process)
        samples = [Sample(0.0, warm_rss, 0)]
        done = 0
        start = time.monotonic()
        next_sample = interval_s
        duration = minutes * 60
        # A bar for a person at a terminal; logs and pipes get only the summary.
        with tqdm(total=round(duration), unit="s", desc="soak", disable=not sys.stderr.isatty(), leave=False) as bar:
            while (elapsed := time.monotonic() - start) < duration:
                claim = claims[done % len(claims)]
                for _ in verifier.verify_many([claim]):
                    done += 1
                elapsed = time.monotonic() - start
                bar.update(min(round(elapsed), bar.total) - bar.n)
                if elapsed >= next_sample:
                    samples.append(Sample(round(elapsed, 1), round(_rss_mb(process), 2), done))
                    bar.set_postfix(rss_mb=samples[-1].rss_mb, claims=done)
                    next_sample += interval_s
        if samples[-1].claims != done:
            samples.append(Sample(round(time.monotonic() - start, 1), round(_rss_mb(process), 2), done))
    return samples, warm_rss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run after warm-up (default 10)")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between RSS samples (default 60)")
    parser.add_argument("--store", choices=["pgvector", "numpy"], default=None, help="vector store (default pgvector)")
    parser.add_argument("--claims", type=int, default=None, help="use only the first N shipped claims (default all)")
    parser.add_argument("--output", default="test-artifacts/soak.json", help="JSON result (default test-artifacts/)")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.interval <= 0 or (args.claims is not None and args.claims < 1):
        parser.error("--minutes, --interval and --claims must be positive")
    settings = Settings.from_env().with_overrides(store=args.store)
    samples, warm_rss = soak(settings, args.minutes, args.interval, args.claims)
    slope = slope_per_minute(samples)
    fingerprint = current(probe_gpu=False)
    result = {
        "minutes": args.minutes,
        "interval_s": args.interval,
        "store": settings.store,
        "claims_verified": samples[-1].claims,
        "rss_mb_after_warmup": round(warm_rss, 2),
        "rss_mb_last": samples[-1].rss_mb,
        "slope_mb_per_min": round(slope, 3),
        "target_mb_per_min": TARGET_MB_PER_MIN,
        "passed": slope < TARGET_MB_PER_MIN,
        "cpu": fingerprint.cpu_description(),
        "python": platform.python_version(),
        "samples": [asdict(s) for s in samples],
    }
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(result, indent=2) + "\n")
    verdict = "PASS" if result["passed"] else "FAIL"
    print(
        f"soak: {args.minutes:g} min, {result['claims_verified']} claims, RSS {warm_rss:.1f} -> "
        f"{samples[-1].rss_mb:.1f} MB, slope {result['slope_mb_per_min']:+.2f} MB/min "
        f"(target < {TARGET_MB_PER_MIN:g}): {verdict}; "
        f"{fingerprint.cpu_model}; written to {output}"
    )
    for s in samples:
        print(f"  {s.seconds / 60:5.1f} min  {s.rss_mb:8.1f} MB  {s.claims:6d} claims")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
