"""Turning the torch models into ONNX graphs: the embedder (with its pooling) and the NLI classifier.

The embedding graph holds the whole sentence-transformers pipeline after tokenization (transformer,
mean pooling, L2 normalisation), so ONNX Runtime returns the same unit vectors the torch path does.
Only models of that shape are exported; anything else is refused rather than silently mis-pooled.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Any

from veracity.errors import ModelNotFoundError

OPSET = 17
MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
# Inputs of different lengths: the trace must see padding, or the attention mask could be traced
# away as "all ones" (transformers skips the mask when a batch has none).
TRACE_TEXTS = ("A short text.", "A longer text, with a few more words, traced with padding beside the short one.")
TRACE_PAIRS = (("A premise.", "A claim."), ("A longer premise with more words in it.", "A somewhat longer claim."))


def embedding_graph(st_model: Any, input_names: tuple[str, ...]) -> Any:
    """The embedder as one module: positional `input_names` -> L2-normalised mean-pooled vectors.

    Raises ModelNotFoundError when the SentenceTransformer is not Transformer + mean Pooling
    (+ Normalize): other poolings or extra layers (Dense, ...) would need their own graph.
    """
    import torch

    modules = list(st_model)
    names = [type(module).__name__ for module in modules]
    pooling_mode = getattr(modules[1], "pooling_mode", None) if len(modules) > 1 else None
    mean_pooled = pooling_mode in ("mean", ("mean",), ["mean"]) and getattr(modules[1], "include_prompt", True)
    if names[:2] != ["Transformer", "Pooling"] or names[2:] not in ([], ["Normalize"]) or not mean_pooled:
        raise ModelNotFoundError(
            f"cannot export the embedding model to ONNX: it is {' + '.join(names)} with pooling {pooling_mode!r}, "
            "but only Transformer + mean Pooling (+ Normalize) is supported; use embedding backend torch"
        )

    class EmbeddingGraph(torch.nn.Module):
        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            # Keyword arguments: transformers 5 models take `use_cache` as their third positional one.
            features = dict(zip(input_names, inputs, strict=True))
            hidden = self.transformer(**features).last_hidden_state
            mask = features["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return EmbeddingGraph(modules[0].auto_model.eval())


def classifier_graph(model: Any, input_names: tuple[str, ...]) -> Any:
    """A sequence-classification model as a module of positional `input_names` -> logits."""
    import torch

    class ClassifierGraph(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(**dict(zip(input_names, inputs, strict=True))).logits

    return ClassifierGraph(model.eval())


def model_inputs(features: Mapping[str, Any], what: str) -> dict[str, Any]:
    """The tokenizer outputs a BERT-style graph takes, in `MODEL_INPUTS` order; ids and mask are required."""
    missing = [name for name in MODEL_INPUTS[:2] if name not in features]
    if missing:
        raise ModelNotFoundError(f"cannot export the {what} model to ONNX: its tokenizer gives no {missing}")
    return {name: features[name] for name in MODEL_INPUTS if name in features}


@contextlib.contextmanager
def _eager_attention(model: Any) -> Iterator[None]:
    """Trace the plain (eager) attention instead of SDPA, then switch back.

    Exported SDPA masks every layer's scores with Where and IsNaN nodes; eager attention adds one
    mask computed once. On the NLI model that made int8 inference 9% faster (kernel time, 1 thread).
    """
    switch = getattr(model, "set_attn_implementation", None)
    before = getattr(model.config, "_attn_implementation", None)
    if switch is None or before in (None, "eager"):
        yield
        return
    switch("eager")
    try:
        yield
    finally:
        switch(before)


def _export(
    hf_model: Any, build: Callable[[tuple[str, ...]], Any], inputs: dict[str, Any], output: str, dest: Path, what: str
) -> None:
    """Trace `build(input names)` (a module around `hf_model`) on `inputs` into `dest`, batch and token axes dynamic."""
    import torch

    names = tuple(inputs)
    axes = {name: {0: "batch", 1: "tokens"} for name in names} | {output: {0: "batch"}}
    try:
        # In eval mode before the exporter sees it: it restores the mode it found afterwards, and a
        # fresh wrapper is in training mode, which would switch on dropout in the shared torch model.
        module = build(names).eval()
        with warnings.catch_warnings(), torch.inference_mode(), _eager_attention(hf_model):
            # The legacy exporter's deprecation notice and TracerWarnings about shape-dependent
            # branches: tracing with padding and the fp32 parity tests cover those branches.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                module,
                tuple(inputs.values()),
                str(dest),
                input_names=list(names),
                output_names=[output],
                dynamic_axes=axes,
                opset_version=OPSET,
                dynamo=False,
            )
    except ModelNotFoundError:
        raise
    except Exception as exc:  # the tracer raises anything from RuntimeError to TypeError on unsupported code
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise ModelNotFoundError(
            f"cannot export the {what} model to ONNX ({type(exc).__name__}: {detail}); use {what} backend torch"
        ) from None


def export_embedding(st_model: Any, dest: Path) -> None:
    """Write the embedder's ONNX graph (output `embedding`, float32 [batch, dim], unit rows) to `dest`."""
    inputs = model_inputs(st_model.preprocess(list(TRACE_TEXTS)), "embedding")
    _export(st_model[0].auto_model, partial(embedding_graph, st_model), inputs, "embedding", dest, "embedding")


def export_classifier(model: Any, tokenizer: Any, dest: Path) -> None:
    """Write a sequence classifier's ONNX graph (output `logits`, float32 [batch, labels]) to `dest`."""
    premises, hypotheses = zip(*TRACE_PAIRS, strict=True)
    inputs = model_inputs(tokenizer(list(premises), list(hypotheses), padding=True, return_tensors="pt"), "nli")
    _export(model, partial(classifier_graph, model), inputs, "logits", dest, "nli")
