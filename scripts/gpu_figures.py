"""The suite's CUDA benchmarks, timed once outside asv beside their CPU counterparts: GPU figures for a note.

asv runs these same classes (`embedding.EncodeCuda`, `nli.NliCuda`, `pipeline.VerifyClaimsCuda`)
wherever a GPU is present. This script is for a GPU machine lent for a few minutes, where no asv
environment is set up: it drives each class as asv would (setup, warm-up calls, then timed
samples of the `time_*` method; each `track_*` read once; teardown) and writes one JSON file. The
CPU counterparts run in the same process, so GPU/CPU ratios come from one machine and one run.

    PYTHONPATH=src python scripts/gpu_figures.py --output gpu.json            # embedding and NLI
    PYTHONPATH=src python scripts/gpu_figures.py --pipeline --output gpu.json  # also end to end (PostgreSQL)
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WARMUP_CALLS = 3


def time_method(bench: object, method: str, params: tuple, samples: int) -> dict:
    """Median and quartiles of `samples` calls (seconds), after a few untimed ones."""
    call = getattr(bench, method)
    for _ in range(WARMUP_CALLS):
        call(*params)
    seconds = []
    for _ in range(samples):
        start = time.perf_counter()
        call(*params)
        seconds.append(time.perf_counter() - start)
    q1, median, q3 = statistics.quantiles(seconds, n=4)
    return {"median_s": median, "q1_s": q1, "q3_s": q3, "samples": samples}


def run_class(cls: type, params: tuple = (), samples: int = 30) -> dict:
    """Every `time_*` and `track_*` of one parameter set of a benchmark class; errors are recorded, not raised."""
    name = f"{cls.__module__.split('.')[-1]}.{cls.__name__}" + (f"{params}" if params else "")
    row: dict = {"benchmark": name}
    bench = cls()
    try:
        started = time.perf_counter()
        bench.setup(*params)
        row["setup_s"] = round(time.perf_counter() - started, 2)
        for method in sorted(m for m in dir(cls) if m.startswith(("time_", "track_"))):
            if method.startswith("time_"):
                row[method] = time_method(bench, method, params, samples)
            else:
                row[method] = getattr(bench, method)(*params)
    except Exception as exc:  # a broken benchmark is a finding for the note, not the end of the run
        row["error"] = f"{type(exc).__name__}: {exc}"
        row["traceback"] = traceback.format_exc(limit=6)
    finally:
        teardown = getattr(bench, "teardown", None)
        if teardown is not None:
            try:
                teardown(*params)
            except Exception as exc:
                row.setdefault("error", f"teardown: {type(exc).__name__}: {exc}")
    print(json.dumps(row), flush=True)
    return row


def machine() -> dict:
    import torch

    from veracity.cpuinfo import cpu_flags, cpu_model
    from veracity.pipeline.backends.precision import reported_flags

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": cpu_model(),
        "cpu_flags": reported_flags(cpu_flags()),
        "cuda": torch.version.cuda,
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info |= {"gpu": props.name, "gpu_memory_bytes": props.total_memory, "sms": props.multi_processor_count}
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True)
    parser.add_argument("--pipeline", action="store_true", help="also the end-to-end benchmarks (needs PostgreSQL)")
    parser.add_argument("--only-pipeline", action="store_true", help="only the end-to-end benchmarks")
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()

    from benchmarks import embedding, nli

    report: dict = {"machine": machine(), "rows": []}
    print(json.dumps(report["machine"]), flush=True)
    rows = report["rows"]
    if not args.only_pipeline:
        for batch_size in embedding.EncodeCuda.params:
            rows.append(run_class(embedding.EncodeCuda, (batch_size,), args.samples))
            rows.append(run_class(embedding.EncodeBatch, (batch_size,), min(args.samples, 10)))
        rows.append(run_class(nli.NliCuda, (), args.samples))
        rows.append(run_class(nli.NliBatching, ("sorted",), min(args.samples, 5)))
    if args.pipeline or args.only_pipeline:
        from benchmarks import pipeline

        rows.append(run_class(pipeline.VerifyClaimsCuda, (), args.samples))
        rows.append(run_class(pipeline.VerifyClaims, (), args.samples))
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
