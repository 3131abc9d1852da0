"""Memory by phase: a model load measured in a fresh interpreter (so imports and other phases do not
count), and the peak any other phase adds in the benchmark process itself."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Callable

from benchmarks.run_cache import once_per_run

# Runs in a child interpreter: import the heavy libraries first, then measure only the load.
_LOAD_SCRIPT = r"""
import json, os, sys, gc
import psutil
import torch, transformers, sentence_transformers  # imports are not the model's memory
from veracity.config import DEFAULT_NLI_MODEL, Settings
from veracity.pipeline import session
from veracity.pipeline.nli_training import build_default_nli
torch.set_num_threads(1)
settings = Settings.from_env()
if sys.argv[1] == "nli" and settings.nli_model == DEFAULT_NLI_MODEL:
    build_default_nli(settings.cache_dir, show_progress=False)  # training is not loading: do it first
gc.collect()
process = psutil.Process()
before = process.memory_info().rss
model = session.load_embedder(settings) if sys.argv[1] == "embedding" else session.load_nli(settings)
after = process.memory_info().rss
print(json.dumps({"bytes": after - before}))
"""


def subprocess_load_bytes(which: str) -> int:
    """Resident bytes added by loading the `embedding` or `nli` model, in a fresh Python process.

    Measured once per run (a fresh interpreter costs seconds) and shared by the model-load tracks
    of the embedding, NLI and pipeline suites.
    """

    def measure() -> dict[str, int]:
        env = dict(os.environ, OMP_NUM_THREADS="1")
        out = subprocess.run(
            [sys.executable, "-c", _LOAD_SCRIPT, which],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        return {"bytes": int(json.loads(out.stdout.strip().splitlines()[-1])["bytes"])}

    return int(once_per_run(f"memory.model_load:{which}", measure)["bytes"])


def phase_peak_bytes(fn: Callable[[], object]) -> int:
    """Peak resident memory added while `fn` runs, above the process's RSS just before (memory-profiler)."""
    from memory_profiler import memory_usage

    gc.collect()
    baseline = memory_usage(-1, interval=0.01, timeout=0.05, max_usage=True)
    peak = memory_usage((fn, (), {}), interval=0.005, max_usage=True, include_children=False)
    return int(max(0.0, peak - baseline) * 1024 * 1024)
