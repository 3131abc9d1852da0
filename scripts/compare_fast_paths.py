"""Side by side in one process: torch fp32 vs ONNX Runtime fp32 vs the `fast` backend, for embedding and NLI.

Run from the repo root: `OMP_NUM_THREADS=1 .venv/bin/python scripts/compare_fast_paths.py [--repeats 5]`.
Every backend runs the same texts in the same length-sorted batches, one thread each; the backends
take turns within every repeat (so machine drift hits all of them alike) and the best time counts.
Quality is measured against torch fp32: cosine for embeddings, label agreement and held-out
accuracy for NLI. The first run exports and quantizes the models into the cache (a minute or so).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from importlib import metadata

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, ".")

import numpy as np

from benchmarks import common, yardsticks
from benchmarks import models as suite_models
from veracity.cpuinfo import cpu_flags, cpu_model
from veracity.data import load_claims, load_corpus, load_nli_pairs
from veracity.pipeline.backends.forward import BackendInfo
from veracity.pipeline.backends.precision import reported_flags
from veracity.pipeline.embedding import Embedder
from veracity.pipeline.nli import NliModel

BACKENDS = ("torch", "onnx-fp32", "fast")


def best_times(runs: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Fastest of `repeats` calls of each run, the runs alternating within each repeat (one warm-up each)."""
    for run in runs.values():
        run()
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def describe(info: BackendInfo) -> str:
    gate = f", gate {'passed' if info.gate.passed else 'FAILED'} {info.gate.measures}" if info.gate else ""
    return f"{info.resolved} ({info.precision}){gate}"


def compare_embedding(name: str, texts: list[str], models: dict[str, Embedder], matmul: float, repeats: int) -> None:
    reference = models["torch"].encode(texts)
    flops = models["torch"].flops(reference.token_counts)
    best = best_times({key: (lambda m=model: m.encode(texts)) for key, model in models.items()}, repeats)
    print(f"embedding, {name}: {len(texts)} texts, {int(reference.token_counts.mean())} tokens on average")
    for key, model in models.items():
        cosines = (model.encode(texts).vectors * reference.vectors).sum(axis=1)
        print(
            f"  {key:9s} {len(texts) / best[key]:7.1f} texts/s  x{best['torch'] / best[key]:4.2f}  "
            f"efficiency {flops / best[key] / 1e9 / matmul:5.2f} of matmul  "
            f"cosine to torch mean {cosines.mean():.4f} min {cosines.min():.4f}"
        )


def compare_nli(models: dict[str, NliModel], matmul: float, pairs_n: int, repeats: int) -> None:
    pairs = list(suite_models.mixed_pairs(pairs_n))
    held_out = load_nli_pairs("test")
    held_pairs = [(p.premise, p.hypothesis) for p in held_out]
    gold = [p.label for p in held_out]
    reference = models["torch"].predict(pairs)
    held_reference = models["torch"].predict(held_pairs).labels()
    flops = models["torch"].flops(reference.token_counts)
    best = best_times({key: (lambda m=model: m.predict(pairs)) for key, model in models.items()}, repeats)
    print(f"NLI, mixed-length pairs: {len(pairs)} pairs, {int(reference.token_counts.mean())} tokens on average")
    for key, model in models.items():
        labels = model.predict(pairs).labels()
        held_labels = model.predict(held_pairs).labels()
        accuracy = np.mean([a == g for a, g in zip(held_labels, gold, strict=True)])
        print(
            f"  {key:9s} {len(pairs) / best[key]:7.1f} pairs/s  x{best['torch'] / best[key]:4.2f}  "
            f"efficiency {flops / best[key] / 1e9 / matmul:5.2f} of matmul  "
            f"agreement with torch {np.mean([a == b for a, b in zip(labels, reference.labels(), strict=True)]):.3f} "
            f"(held-out {np.mean([a == b for a, b in zip(held_labels, held_reference, strict=True)]):.3f})  "
            f"held-out accuracy {accuracy:.4f} on {len(gold)} pairs"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per backend (default 5)")
    parser.add_argument("--pairs", type=int, default=96, help="mixed-length NLI pairs (default 96)")
    args = parser.parse_args()
    common.pin_threads(1)
    cache_dir = common.settings().cache_dir
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("torch", "onnxruntime", "transformers"))
    print(f"CPU: {cpu_model()}; flags {' '.join(reported_flags(cpu_flags())) or 'none of interest'}; {versions}")
    matmul = yardsticks.matmul_gflops()
    print(f"1-thread fp32 matmul (torch, 1024x1024): {matmul:.1f} GFLOP/s; best of {args.repeats}, alternating")

    embedders = {key: Embedder(batch_size=32, backend=key, cache_dir=cache_dir) for key in BACKENDS}
    print(f"fast embedding -> {describe(embedders['fast'].backend_info)}")
    nli_path = str(suite_models.nli_model().path)
    nli_models = {key: NliModel(nli_path, backend=key, cache_dir=cache_dir) for key in BACKENDS}
    print(f"fast NLI -> {describe(nli_models['fast'].backend_info)}")

    compare_embedding("shipped claims", [c.claim for c in load_claims()], embedders, matmul, args.repeats)
    corpus = [p.text for p in load_corpus()[::10]]
    compare_embedding("corpus passages (every 10th)", corpus, embedders, matmul, args.repeats)
    compare_nli(nli_models, matmul, args.pairs, args.repeats)


if __name__ == "__main__":
    main()
