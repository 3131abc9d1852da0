"""The ONNX Runtime fast paths: as good as torch on the shipped data, chosen per CPU, cached whole or not at all."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from veracity.config import Settings
from veracity.cpuinfo import cpu_flags, parse_flags
from veracity.data import load_claims, load_corpus, load_nli_pairs
from veracity.errors import ConfigError, ModelNotFoundError
from veracity.pipeline.backends import forward as backend
from veracity.pipeline.backends import quantize
from veracity.pipeline.backends.cache import MODEL_FILE, build_once, is_complete, read_metadata, update_metadata
from veracity.pipeline.backends.export import embedding_graph, export_embedding
from veracity.pipeline.backends.forward import BackendInfo, OnnxSource, prepare_backend, read_decision
from veracity.pipeline.backends.precision import (
    FP32,
    INT8,
    INT8_REDUCED,
    fast_precision,
    int8_precision,
)
from veracity.pipeline.backends.quality import GateRecord, embedding_gate, judge_identity, nli_gate
from veracity.pipeline.embedding import Embedder
from veracity.pipeline.models import shipped_minilm_path
from veracity.pipeline.nli import NliModel

pytestmark = pytest.mark.models

ZEN4 = frozenset(["fpu", "sse2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16"])
EPYC_AVX2 = frozenset(["fpu", "sse2", "avx", "avx2", "fma"])
ALDER_LAKE = frozenset(["fpu", "sse2", "avx", "avx2", "fma", "avx_vnni"])
SAPPHIRE_RAPIDS = frozenset(["avx2", "avx512f", "avx512_vnni", "amx_tile", "amx_int8", "amx_bf16"])
OLD_X86 = frozenset(["fpu", "sse2", "sse4_2", "avx"])


# --- which precision each CPU gets (pure) ------------------------------------------------------


@pytest.mark.parametrize("flags", [ZEN4, ALDER_LAKE, SAPPHIRE_RAPIDS])
def test_cpus_with_int8_dot_products_get_full_range_int8(flags: frozenset[str]) -> None:
    assert fast_precision(flags).precision == int8_precision(flags).precision == INT8


def test_avx2_without_vnni_gets_reduced_range_int8() -> None:
    assert fast_precision(EPYC_AVX2).precision == INT8_REDUCED


@pytest.mark.parametrize("flags", [OLD_X86, frozenset()])
def test_cpus_without_avx2_get_onnx_fp32(flags: frozenset[str]) -> None:
    assert fast_precision(flags).precision == FP32


def test_flags_are_read_from_cpuinfo_text() -> None:
    cpuinfo = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512_vnni\n\nprocessor\t: 1\n"
    assert parse_flags(cpuinfo) == {"fpu", "avx2", "avx512_vnni"}
    assert parse_flags("processor : 0\nFeatures : fp asimd asimddp\n") == {"fp", "asimd", "asimddp"}


# --- the gate's rules (pure) -----------------------------------------------------------------------


def test_embedding_gate_fails_vectors_that_drift() -> None:
    rng = np.random.default_rng(0)
    reference = rng.standard_normal((64, 384)).astype(np.float32)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)
    drifted = reference + 0.2 * rng.standard_normal(reference.shape).astype(np.float32)
    drifted /= np.linalg.norm(drifted, axis=1, keepdims=True)
    assert embedding_gate(reference, reference).passed
    assert not embedding_gate(reference, drifted).passed


def test_nli_gate_fails_on_lost_accuracy_or_agreement() -> None:
    gold = ["entailment"] * 50 + ["neutral"] * 50
    assert nli_gate(gold, gold, gold).passed
    assert not nli_gate(gold, ["neutral"] * 100, gold).passed
    # Same accuracy (50%), but a tenth of the labels moved: not the same model any more.
    half = ["entailment"] * 50 + ["contradiction"] * 50
    moved = ["entailment"] * 45 + ["neutral"] * 5 + ["contradiction"] * 45 + ["neutral"] * 5
    assert not nli_gate(half, moved, gold).passed


# --- configuration errors ----------------------------------------------------------------------------


def test_unknown_backend_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="embedding backend 'tensorrt' is unknown"):
        Embedder(backend="tensorrt")
    with pytest.raises(ConfigError, match="nli_backend"):
        Settings(nli_backend="int4")
    monkeypatch.setenv("VERACITY_EMBEDDING_BACKEND", "quick")
    with pytest.raises(ConfigError, match="embedding_backend 'quick'"):
        Settings.from_env()


def test_onnx_on_cuda_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="CPU only"):
        Embedder(device="cuda", backend="fast")
    with pytest.raises(ConfigError, match="CPU only"):
        NliModel(str(tmp_path), device="cuda", backend="onnx-fp32")
    with pytest.raises(ConfigError, match="CPU only"):
        Settings(device="cuda", nli_backend="onnx-int8")


def test_only_mean_pooled_embedders_are_exported(embedder: Embedder) -> None:
    from sentence_transformers.sentence_transformer.modules import Pooling

    cls_pooled = [embedder._model[0], Pooling(embedder.dim, pooling_mode="cls")]
    with pytest.raises(ModelNotFoundError, match="only Transformer \\+ mean Pooling"):
        embedding_graph(cls_pooled, ("input_ids", "attention_mask"))


# --- quality on the shipped data -----------------------------------------------------------------


def _assert_int8_where_the_cpu_has_it(info: BackendInfo) -> None:
    """A fast path that fell back to fp32 would pass the quality checks below trivially: a CPU that
    runs int8 well must get int8, so a quality drop that fails the gate fails the test too."""
    if fast_precision(cpu_flags()).precision != FP32:
        assert info.resolved == "onnx-int8", info.to_json()


@pytest.fixture(scope="module")
def fast_embedder(cache_dir: Path) -> Embedder:
    embedder = Embedder(batch_size=32, backend="fast", cache_dir=cache_dir)
    _assert_int8_where_the_cpu_has_it(embedder.backend_info)
    return embedder


@pytest.fixture(scope="module")
def fast_nli(nli_model: NliModel, cache_dir: Path) -> NliModel:
    nli = NliModel(str(nli_model.path), backend="fast", cache_dir=cache_dir)
    _assert_int8_where_the_cpu_has_it(nli.backend_info)
    return nli


@pytest.fixture(scope="module")
def shipped_texts() -> list[str]:
    """Claims and passages from across the corpus (not only the first ones the gate measured)."""
    return [c.claim for c in load_claims()[::2]] + [p.text for p in load_corpus()[::20]]


def test_fast_embeddings_keep_cosine_099_to_torch(
    fast_embedder: Embedder, embedder: Embedder, shipped_texts: list[str]
) -> None:
    fast = fast_embedder.encode(shipped_texts)
    torch_fp32 = embedder.encode(shipped_texts)
    cosines = (fast.vectors * torch_fp32.vectors).sum(axis=1)
    assert cosines.mean() >= 0.99, fast_embedder.backend_info.to_json()
    assert cosines.min() >= 0.95
    np.testing.assert_array_equal(fast.token_counts, torch_fp32.token_counts)


def test_onnx_fp32_embeddings_equal_torch(embedder: Embedder, cache_dir: Path) -> None:
    onnx_fp32 = Embedder(batch_size=32, backend="onnx-fp32", cache_dir=cache_dir)
    for texts in ([c.claim for c in load_claims()[:40]], ["x", "A single, much longer text " * 8], ["alone"]):
        cosines = (onnx_fp32.encode(texts).vectors * embedder.encode(texts).vectors).sum(axis=1)
        assert cosines.min() >= 0.9999


def test_export_leaves_the_torch_model_as_it_was(embedder: Embedder, tmp_path: Path) -> None:
    texts = [c.claim for c in load_claims()[:8]]
    before = embedder.encode(texts).vectors
    export_embedding(embedder._model, tmp_path / MODEL_FILE)  # traced in eval mode with eager attention
    assert not embedder._model.training
    np.testing.assert_allclose(embedder.encode(texts).vectors, before, atol=1e-6)


def test_fast_nli_keeps_held_out_accuracy(fast_nli: NliModel, nli_model: NliModel) -> None:
    held_out = load_nli_pairs("test")
    pairs = [(p.premise, p.hypothesis) for p in held_out]
    fast, torch_fp32 = fast_nli.predict(pairs).labels(), nli_model.predict(pairs).labels()
    gold = [p.label for p in held_out]
    accuracy = np.mean([label == g for label, g in zip(fast, gold, strict=True)])
    torch_accuracy = np.mean([label == g for label, g in zip(torch_fp32, gold, strict=True)])
    assert accuracy >= torch_accuracy - 0.02, fast_nli.backend_info.to_json()
    agreement = np.mean([a == b for a, b in zip(fast, torch_fp32, strict=True)])
    assert agreement >= 0.95
    if fast_nli.backend_info.gate is not None:  # the record the fast path chose by is today's, not a stale one
        assert fast_nli.backend_info.gate.measures["agreement"] == round(agreement, 4)


def test_onnx_fp32_nli_probabilities_equal_torch(nli_model: NliModel, cache_dir: Path) -> None:
    onnx_fp32 = NliModel(str(nli_model.path), backend="onnx-fp32", cache_dir=cache_dir)
    pairs = [(p.premise, p.hypothesis) for p in load_nli_pairs("test")[:40]]
    np.testing.assert_allclose(onnx_fp32.predict(pairs).probs, nli_model.predict(pairs).probs, atol=1e-4)


def test_fast_decision_is_recorded_for_reports(fast_embedder: Embedder) -> None:
    info = fast_embedder.backend_info
    decision = read_decision(info.decision_file)
    assert decision["resolved"] == info.resolved in ("onnx-int8", "onnx-fp32")
    assert decision["cpu"] and isinstance(decision["cpu_flags"], list)
    if info.resolved == "onnx-int8":
        assert decision["gate"]["passed"] and decision["gate"]["measures"]["cosine_mean"] >= 0.99


# --- the cache -----------------------------------------------------------------------------------


def test_second_construction_reuses_the_cached_model(fast_embedder: Embedder, cache_dir: Path) -> None:
    model_file = fast_embedder.backend_info.model_file
    before = model_file.stat().st_mtime_ns
    again = Embedder(batch_size=32, backend="fast", cache_dir=cache_dir)
    assert again.backend_info.model_file == model_file
    assert model_file.stat().st_mtime_ns == before


def test_failed_build_leaves_no_folder(tmp_path: Path) -> None:
    target = tmp_path / "models" / "onnx-embedding-fp32-0123"

    def half_then_fail(staging: Path) -> dict:
        (staging / MODEL_FILE).write_bytes(b"half a model")
        raise KeyboardInterrupt

    def whole(staging: Path) -> dict:
        (staging / MODEL_FILE).write_bytes(b"a model")
        return {}

    with pytest.raises(KeyboardInterrupt):
        build_once(target, half_then_fail)
    assert not target.exists()
    assert [p.name for p in target.parent.iterdir()] == [".onnx.lock"]
    assert build_once(target, whole) and is_complete(target)
    assert not build_once(target, half_then_fail)  # complete: not built again


def test_interrupted_quantization_keeps_fp32_and_leaves_no_int8(
    embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(source: Path, dest: Path, **kwargs: object) -> None:
        dest.write_bytes(source.read_bytes()[:1000])
        raise KeyboardInterrupt

    monkeypatch.setattr(quantize, "quantize_int8", interrupted)
    source = _source(embedder, judge=lambda path: GateRecord(True, "any", {}))
    with pytest.raises(KeyboardInterrupt):
        prepare_backend(source, "onnx-int8", tmp_path)
    folders = sorted(p.name for p in (tmp_path / "models").iterdir() if p.is_dir())
    assert len(folders) == 1 and folders[0].startswith("onnx-embedding-fp32-")
    assert is_complete(tmp_path / "models" / folders[0])


def test_fast_path_falls_back_to_fp32_and_says_why(
    embedder: Embedder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    judged: list[str] = []

    def strict(path: Path) -> GateRecord:
        judged.append(path.parent.name)
        return GateRecord(False, "mean cosine to torch fp32 >= 1.01", {"cosine_mean": 0.99})

    with caplog.at_level(logging.WARNING):
        info = prepare_backend(_source(embedder, judge=strict), "fast", tmp_path, flags=ZEN4)
    assert len(judged) == 2 and "-int8-" in judged[0] and "-int8-mixed-" in judged[1]
    assert info.resolved == "onnx-fp32" and "failed its quality gate" in info.reason
    assert "failed its quality gate" in caplog.text
    assert read_decision(info.decision_file)["resolved"] == "onnx-fp32"


def test_a_gate_judged_by_other_batching_code_is_judged_again_and_the_model_kept(
    embedder: Embedder, tmp_path: Path
) -> None:
    judged: list[str] = []

    def passing(path: Path) -> GateRecord:
        judged.append(path.parent.name)
        return GateRecord(True, "any", {"cosine_mean": 0.995})

    first = prepare_backend(_source(embedder, judge=passing), "onnx-int8", tmp_path, flags=ZEN4)
    folder = first.model_file.parent
    weights = first.model_file.read_bytes()
    assert len(judged) == 1 and read_metadata(folder)["judged_with"] == judge_identity("embedding")

    prepare_backend(_source(embedder, judge=passing), "onnx-int8", tmp_path, flags=ZEN4)
    assert len(judged) == 1  # unchanged code: the record stands

    update_metadata(folder, lambda meta: meta | {"judged_with": "batching of an older commit"})
    again = prepare_backend(_source(embedder, judge=passing), "onnx-int8", tmp_path, flags=ZEN4)
    assert len(judged) == 2 and judged[1] == folder.name  # the cached model itself, not a new build
    assert again.model_file == first.model_file and again.model_file.read_bytes() == weights
    assert read_metadata(folder)["judged_with"] == judge_identity("embedding")


def test_a_stale_gate_in_a_cache_that_cannot_be_written_is_judged_for_this_process(
    embedder: Embedder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _source(embedder, judge=lambda path: GateRecord(True, "any", {"cosine_mean": 0.995}))
    folder = prepare_backend(source, "onnx-int8", tmp_path, flags=ZEN4).model_file.parent
    stale = {"judged_with": "older code", "gate": GateRecord(False, "any", {"cosine_mean": 0.9}).to_json()}
    update_metadata(folder, lambda meta: meta | stale)

    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(backend, "update_metadata", refuse)
    info = prepare_backend(source, "fast", tmp_path, flags=ZEN4)
    assert info.gate is not None and info.gate.passed and info.model_file.parent == folder
    assert read_metadata(folder)["judged_with"] == "older code"  # nothing written


def test_judge_identity_follows_the_batching_code_and_the_kind() -> None:
    assert judge_identity("nli") == judge_identity("nli") != judge_identity("embedding")


def _source(embedder: Embedder, *, judge) -> OnnxSource:
    texts = [c.claim for c in load_claims()[:16]]
    return OnnxSource(
        "embedding",
        str(shipped_minilm_path()),
        lambda dest: export_embedding(embedder._model, dest),
        judge,
        lambda forward: embedder.encode(texts, forward=forward),
    )
