"""An ONNX Runtime session as a forward pass: tokenizer features in, one float32 array out."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def session_threads() -> int:
    """Threads for a new session: as many as torch uses, so `torch.set_num_threads(1)` pins both paths.

    ONNX Runtime ignores OMP_NUM_THREADS and would otherwise take every core, which on a shared
    2-vCPU machine makes timings bimodal.
    """
    import torch

    return max(1, torch.get_num_threads())


class OnnxForward:
    """Runs an exported graph on the CPU; called with the same features the torch model gets."""

    def __init__(self, model_file: Path, *, threads: int | None = None) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or session_threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: it warns about unused initializers of int8 graphs
        self.model_file = model_file
        self._session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self._inputs = [node.name for node in self._session.get_inputs()]

    def __call__(self, features: Mapping[str, Any]) -> np.ndarray:
        """The graph's output for tokenizer `features` (torch tensors or numpy arrays)."""
        feeds = {name: np.asarray(features[name], dtype=np.int64) for name in self._inputs}
        return self._session.run(None, feeds)[0]
