"""The quality metrics the suite reads (`veracity.pipeline.quality_metrics`), for every commit it measures.

A commit from before the module existed gets the working tree's definitions, loaded from their file
beside this folder: a metric is the suite's yardstick, and the same definition must judge every commit.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

try:
    from veracity.pipeline import quality_metrics
except ImportError:  # a commit before issue 20
    _FILE = Path(__file__).resolve().parents[1] / "src" / "veracity" / "pipeline" / "quality_metrics.py"
    _SPEC = importlib.util.spec_from_file_location("benchmarks_quality_metrics", _FILE)
    if _SPEC is None or _SPEC.loader is None:
        raise
    quality_metrics = importlib.util.module_from_spec(_SPEC)
    sys.modules[_SPEC.name] = quality_metrics  # dataclasses look their module up by name
    _SPEC.loader.exec_module(quality_metrics)

ConfusionMatrix = quality_metrics.ConfusionMatrix
hit_rate_at_k = quality_metrics.hit_rate_at_k
ndcg_at_k = quality_metrics.ndcg_at_k

__all__ = ["ConfusionMatrix", "hit_rate_at_k", "ndcg_at_k"]
