"""Which forward pass a model runs (torch, ONNX fp32, ONNX int8, or `fast`) and the cached ONNX model behind it.

`fast` picks the precision this CPU runs well (see backends.precision) and holds each int8 variant to
the quality gate (see backends.quality): all products int8 first, then the `mixed` variant with its
outlier products in fp32 (see backends.quantize); if both fail, ONNX fp32 runs. The decision is kept
in `<cache>/models/onnx-<kind>-fast-<key>.json` for reports.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from veracity import cpuinfo
from veracity.fsutil import atomic_write_text
from veracity.pipeline.backends.cache import (
    MODEL_FILE,
    RECIPE_VERSION,
    build_once,
    cache_key,
    onnx_dir,
    package_versions,
    read_metadata,
    update_metadata,
)
from veracity.pipeline.backends.precision import (
    FP32,
    INT8_REDUCED,
    PrecisionChoice,
    fast_precision,
    int8_precision,
    reported_flags,
)
from veracity.pipeline.backends.quality import GateRecord, judge_identity
from veracity.pipeline.progress import progress_bar

Forward = Callable[[Mapping[str, Any]], np.ndarray]
"""A model's forward pass: tokenizer features of one batch in, one float32 row per input out."""

log = logging.getLogger(__name__)

MIXED = "-mixed"
"""Suffix of the int8 variant that keeps outlier products in fp32 (see backends.quantize)."""


@dataclass(frozen=True)
class OnnxSource:
    """What the cache needs from a loaded torch model: how to export it and how to judge an int8 copy."""

    kind: str  # "embedding" or "nli"
    model: str  # the local path or hub id it was loaded from: part of the cache key
    export: Callable[[Path], None]  # writes the fp32 graph to the given file
    judge: Callable[[Path], GateRecord]  # measures an int8 graph against the torch model
    calibrate: Callable[[Forward], object]  # runs a few typical inputs through the given forward pass


@dataclass(frozen=True)
class BackendInfo:
    """The backend asked for, the one that runs, and why; `gate` is the int8 model's quality record."""

    requested: str
    resolved: str  # "torch", "onnx-fp32" or "onnx-int8"
    precision: str  # "fp32", "int8", "int8-reduced", or either with "-mixed"
    model_file: Path | None
    reason: str
    gate: GateRecord | None = None
    decision_file: Path | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "requested": self.requested,
            "resolved": self.resolved,
            "precision": self.precision,
            "model_file": str(self.model_file) if self.model_file else None,
            "reason": self.reason,
            "gate": self.gate.to_json() if self.gate else None,
        }


TORCH = BackendInfo("torch", "torch", FP32, None, "PyTorch forward pass")


def _export_step(source: OnnxSource, staging: Path) -> dict[str, Any]:
    started = time.perf_counter()
    source.export(staging / MODEL_FILE)
    return _metadata(source, FP32, time.perf_counter() - started)


def _int8_step(source: OnnxSource, fp32_file: Path, precision: str, staging: Path) -> dict[str, Any]:
    from veracity.pipeline.backends.quantize import outlier_products, quantize_int8

    started = time.perf_counter()
    keep = outlier_products(fp32_file, source.calibrate) if precision.endswith(MIXED) else []
    reduce_range = precision.startswith(INT8_REDUCED)
    quantize_int8(fp32_file, staging / MODEL_FILE, reduce_range=reduce_range, keep_fp32=keep)
    meta = _metadata(source, precision, time.perf_counter() - started) | {"kept_fp32": keep}
    # Judged before the folder is renamed in: the model and its quality record appear together.
    meta["gate"] = source.judge(staging / MODEL_FILE).to_json()
    meta["judged_with"] = judge_identity(source.kind)
    return meta


def current_gate(source: OnnxSource, folder: Path) -> GateRecord:
    """The gate record of the int8 model in `folder`, judged again if the code that judged it changed.

    Only the verdict is redone (seconds); the quantized weights do not depend on that code.
    """
    identity = judge_identity(source.kind)

    def is_current(meta: dict[str, Any]) -> bool:
        return meta.get("judged_with") == identity and "gate" in meta

    meta = read_metadata(folder)
    if is_current(meta):  # the common case takes no lock, so a read-only cache still serves
        return GateRecord.from_json(meta["gate"])

    def rejudge(meta: dict[str, Any]) -> dict[str, Any] | None:
        if is_current(meta):  # another process re-judged it while we waited
            return None
        log.info("re-judging %s: the code that batches its inputs changed", folder.name)
        return meta | {"gate": source.judge(folder / MODEL_FILE).to_json(), "judged_with": identity}

    try:
        return GateRecord.from_json(update_metadata(folder, rejudge)["gate"])
    except OSError as exc:  # a cache we may read but not write: judge for this process only
        log.warning("cannot save the new quality record of %s (%s); it is judged again next time", folder.name, exc)
        return source.judge(folder / MODEL_FILE)


def _metadata(source: OnnxSource, precision: str, seconds: float) -> dict[str, Any]:
    return {
        "kind": source.kind,
        "source": source.model,
        "precision": precision,
        "recipe": RECIPE_VERSION,
        "versions": package_versions(),
        "cpu": cpuinfo.cpu_model(),
        "cpu_flags": reported_flags(cpuinfo.cpu_flags()),
        "seconds": round(seconds, 2),
    }


def _choice(backend: str, flags: frozenset[str]) -> PrecisionChoice:
    if backend == "onnx-int8":
        return int8_precision(flags)
    if backend == "fast":
        return fast_precision(flags)
    return PrecisionChoice(FP32, "ONNX Runtime fp32, as configured")


def prepare_backend(
    source: OnnxSource,
    backend: str,
    cache_dir: Path,
    *,
    flags: frozenset[str] | None = None,
    show_progress: bool = False,
) -> BackendInfo:
    """Resolve `backend` for this CPU (or `flags`), exporting and quantizing into the cache if needed.

    `onnx-int8` takes the first int8 variant for this CPU whatever its gate says (the record is
    kept in `gate`). `fast` takes the first variant that passes: all products int8, then `mixed`
    (outlier products in fp32), then ONNX fp32.
    """
    if backend == "torch":
        return TORCH
    flags = cpuinfo.cpu_flags() if flags is None else flags
    key = cache_key(source.kind, source.model)
    fp32_file = onnx_dir(cache_dir, source.kind, FP32, key) / MODEL_FILE
    choice = _choice(backend, flags)
    variants = [] if choice.precision == FP32 else [choice.precision, choice.precision + MIXED]
    if backend == "onnx-int8":
        variants = variants[:1]

    chosen: BackendInfo | None = None
    failed: list[BackendInfo] = []
    steps = progress_bar([FP32, *variants], enabled=show_progress, desc=f"ONNX {source.kind} model", unit="model")
    for precision in steps:
        if precision == FP32:
            build_once(fp32_file.parent, partial(_export_step, source))
        elif chosen is None:
            folder = onnx_dir(cache_dir, source.kind, precision, key)
            build_once(folder, partial(_int8_step, source, fp32_file, precision))
            gate = current_gate(source, folder)
            reason = choice.reason + "".join(f"; {tried.precision} failed its quality gate" for tried in failed)
            info = BackendInfo(backend, "onnx-int8", precision, folder / MODEL_FILE, reason, gate)
            if backend == "onnx-int8" or gate.passed:
                chosen = info
            else:
                failed.append(info)
    if chosen is None:
        chosen = (
            _fallback(backend, fp32_file, failed)
            if failed
            else BackendInfo(backend, "onnx-fp32", FP32, fp32_file, choice.reason)
        )
    if backend == "fast":
        chosen = _record_decision(chosen, cache_dir / "models" / f"onnx-{source.kind}-fast-{key}.json", flags)
    return chosen


def _fallback(backend: str, fp32_file: Path, failed: list[BackendInfo]) -> BackendInfo:
    """ONNX fp32, with the reason: every int8 variant tried failed its gate (said on stderr too)."""
    gate = failed[-1].gate
    measured = "; ".join(f"{info.precision} {info.gate.measures if info.gate else {}}" for info in failed)
    reason = f"int8 failed its quality gate ({gate.rule if gate else '?'}; measured {measured}): ONNX fp32 instead"
    log.warning("fast path for %s: %s", fp32_file.parent.name, reason)
    return BackendInfo(backend, "onnx-fp32", FP32, fp32_file, reason, gate)


def _record_decision(info: BackendInfo, path: Path, flags: frozenset[str]) -> BackendInfo:
    """Save what `fast` chose beside the cached models (rewritten only when it changes)."""
    info = replace(info, decision_file=path)
    record = info.to_json() | {"cpu": cpuinfo.cpu_model(), "cpu_flags": reported_flags(flags)}
    text = json.dumps(record, indent=2) + "\n"
    try:
        unchanged = path.read_text() == text
    except OSError:
        unchanged = False
    if not unchanged:
        atomic_write_text(path, text)
    return info


def read_decision(path: Path) -> dict[str, Any]:
    """A decision saved by the `fast` backend: requested, resolved, precision, reason, gate, cpu, cpu_flags."""
    return json.loads(path.read_text())
