"""Side by side in one process: embedding throughput and matmul efficiency, token-sorted vs character-sorted batches.

Run from the repo root: `OMP_NUM_THREADS=1 .venv/bin/python scripts/compare_embedding_order.py`.
Character order is what `SentenceTransformer.encode` does on its own; token order is
`veracity.pipeline.embedding.Embedder.encode`. Best of 5 alternating runs on 256 shipped claims.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, ".")

import torch

from benchmarks import models, yardsticks


def main() -> None:
    model = models.embedder()
    texts = list(models.short_texts(256))
    matmul = yardsticks.matmul_gflops()
    flops = model.flops(model.encode(texts).token_counts)

    def char_sorted() -> None:
        with torch.inference_mode():
            model._model.encode(texts, batch_size=model.batch_size, normalize_embeddings=True, show_progress_bar=False)

    def token_sorted() -> None:
        model.encode(texts)

    for batch in (16, 32, 64):
        model.batch_size = batch
        best = {"char": float("inf"), "token": float("inf")}
        for _ in range(5):
            for name, run in (("char", char_sorted), ("token", token_sorted)):
                start = time.perf_counter()
                run()
                best[name] = min(best[name], time.perf_counter() - start)
        print(
            f"batch {batch}: character-sorted {256 / best['char']:.0f} texts/s, efficiency "
            f"{flops / best['char'] / 1e9 / matmul:.3f} | token-sorted {256 / best['token']:.0f} texts/s, efficiency "
            f"{flops / best['token'] / 1e9 / matmul:.3f} | speed-up {best['char'] / best['token']:.3f} "
            f"| matmul {matmul:.1f} GFLOP/s"
        )


if __name__ == "__main__":
    main()
