"""Int8 copies of an exported graph, and which of its matrix products are better left in fp32.

Dynamic quantization maps each activation tensor onto 256 levels between its min and max. Most
inputs of MiniLM's matrix products peak at 10-40x their RMS, but the feed-forward down-projections
of the first layers peak at 70-100x (GELU outliers): there a typical value falls on 2-3 levels.
On the project's NLI model those few products flipped most of the labels int8 changed. The
`mixed` variant measures every product's input on calibration data and keeps the outliers in fp32.
Embedding tables (Gather) stay fp32 in both variants: quantizing them saves no time and cost the
NLI model 2 points of label agreement.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from veracity.pipeline.backends.runtime import session_threads

OUTLIER_RATIO = 60.0
"""An input whose peak exceeds this multiple of its RMS keeps its product in fp32 (mixed variant)."""


def weight_products(model: Any) -> list[Any]:
    """The MatMul nodes whose second operand is a weight: the ones dynamic quantization turns into int8."""
    weights = {init.name for init in model.graph.initializer}
    return [node for node in model.graph.node if node.op_type == "MatMul" and node.input[1] in weights]


class InputRecorder:
    """A forward pass over the fp32 graph that also records each weight product's input peak and RMS."""

    def __init__(self, model_file: Path) -> None:
        import onnx
        import onnxruntime as ort

        model = onnx.load(str(model_file))
        self.nodes = {node.name: node.input[0] for node in weight_products(model)}
        self._watched = sorted(set(self.nodes.values()))
        known = {output.name for output in model.graph.output}
        for name in self._watched:
            if name not in known:
                model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
        options = ort.SessionOptions()
        options.intra_op_num_threads = session_threads()
        options.log_severity_level = 3
        self._session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        self._inputs = [node.name for node in self._session.get_inputs()]
        self._output = self._session.get_outputs()[0].name
        self._peak = dict.fromkeys(self._watched, 0.0)
        self._squares = dict.fromkeys(self._watched, 0.0)
        self._count = dict.fromkeys(self._watched, 0)

    def __call__(self, features: Mapping[str, Any]) -> np.ndarray:
        feeds = {name: np.asarray(features[name], dtype=np.int64) for name in self._inputs}
        first, *watched = self._session.run([self._output, *self._watched], feeds)
        for name, values in zip(self._watched, watched, strict=True):
            self._peak[name] = max(self._peak[name], float(np.abs(values).max()))
            self._squares[name] += float(np.square(values, dtype=np.float64).sum())
            self._count[name] += values.size
        return first

    def peak_to_rms(self) -> dict[str, float]:
        """Peak / RMS of each weight product's input, by node name, over everything recorded."""
        ratios = {}
        for node, tensor in self.nodes.items():
            rms = np.sqrt(self._squares[tensor] / max(1, self._count[tensor]))
            ratios[node] = self._peak[tensor] / rms if rms > 0 else 0.0
        return ratios


def outlier_products(model_file: Path, calibrate: Callable[[Callable[..., np.ndarray]], object]) -> list[str]:
    """Names of the products whose input peaks above `OUTLIER_RATIO` x RMS while `calibrate(forward)` runs."""
    recorder = InputRecorder(model_file)
    calibrate(recorder)
    return sorted(node for node, ratio in recorder.peak_to_rms().items() if ratio > OUTLIER_RATIO)


@contextlib.contextmanager
def _without_preprocessing_advice() -> Iterator[None]:
    """Drop quantize_dynamic's advice to run shape pre-processing (meant for static quantization).

    It logs through the root logger, which would also install a stderr handler on it as a side
    effect; the NullHandler held meanwhile prevents that.
    """
    root = logging.getLogger()
    guard = logging.NullHandler()

    def keep(record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Please consider to run pre-processing")

    root.addHandler(guard)
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)
        root.removeHandler(guard)


def quantize_int8(source: Path, dest: Path, *, reduce_range: bool, keep_fp32: list[str] | None = None) -> None:
    """Dynamic int8 copy of `source`: u8 activations quantized per batch, s8 weights per output channel.

    `reduce_range` uses 7-bit weights (for CPUs without VNNI); `keep_fp32` names products left as they are.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _without_preprocessing_advice():
        quantize_dynamic(
            source,
            dest,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=keep_fp32 or [],
            per_channel=True,
            reduce_range=reduce_range,
            weight_type=QuantType.QInt8,
        )
