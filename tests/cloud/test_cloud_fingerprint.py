"""The machine fingerprint knows the GPU (asv's record does not), detected from real nvidia-smi and torch output."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from cloud_helpers import SMI_BANNER, SMI_H100, fake_nvidia_smi

from veracity.tracking.machine import (
    Fingerprint,
    asv_machine_record,
    current,
    detect_gpu,
    gpu_from_torch,
    gpu_matches,
    parse_nvidia_smi,
    parse_smi_cuda_version,
    parse_torch_build_cuda,
    record_machine,
)

# `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits` on real machines.
SMI_2X_A100 = "NVIDIA A100-SXM4-40GB, 40960, 535.129.03\nNVIDIA A100-SXM4-40GB, 40960, 535.129.03\n"
TORCH_VERSION_CUDA = """\
from typing import Optional

__all__ = ['__version__', 'debug', 'cuda', 'git_version', 'hip', 'rocm', 'xpu']
__version__ = '2.13.0+cu128'
debug = False
cuda: Optional[str] = '12.8'
git_version = 'cf30153c4c131c8164ee7798e5022d810682e2cb'
hip: Optional[str] = None
"""
TORCH_VERSION_CPU = TORCH_VERSION_CUDA.replace("'12.8'", "None").replace("+cu128", "+cpu")

EPYC = Fingerprint(
    cpu_model="AMD EPYC 7B13 64-Core Processor",
    cpu_flags=("avx2", "fma"),
    cores=16,
    ram_gb=128,
    arch="x86_64",
    os="Linux 6.8",
    torch="2.13.0",
)


def _with_gpu(**fields: object) -> Fingerprint:
    gpu = parse_nvidia_smi(SMI_H100, cuda="12.8")
    assert gpu is not None
    return Fingerprint(**{**EPYC.to_json(), **gpu.fields(), **fields})


def test_nvidia_smi_query_gives_model_memory_driver_and_count() -> None:
    gpu = parse_nvidia_smi(SMI_H100, cuda="12.8")
    assert gpu is not None
    assert (gpu.model, gpu.memory_gb, gpu.driver, gpu.cuda, gpu.count) == (
        "NVIDIA H100 80GB HBM3",
        79.6,
        "550.54.15",
        "12.8",
        1,
    )
    two = parse_nvidia_smi(SMI_2X_A100)
    assert two is not None and (two.model, two.memory_gb, two.count) == ("NVIDIA A100-SXM4-40GB", 40.0, 2)


@pytest.mark.parametrize("output", ["", "No devices were found\n"])
def test_no_gpu_rows_is_no_gpu(output: str) -> None:
    assert parse_nvidia_smi(output) is None


def test_cuda_versions_from_the_driver_banner_and_from_torchs_build() -> None:
    assert parse_smi_cuda_version(SMI_BANNER) == "12.4"
    assert parse_torch_build_cuda(TORCH_VERSION_CUDA) == "12.8"
    assert parse_torch_build_cuda(TORCH_VERSION_CPU) == ""


def test_torch_cuda_properties_give_the_same_facts() -> None:
    props = SimpleNamespace(name="NVIDIA H100 80GB HBM3", total_memory=81559 * 2**20)
    cuda = SimpleNamespace(is_available=lambda: True, device_count=lambda: 1, get_device_properties=lambda i: props)
    gpu = gpu_from_torch(cuda, "12.8", driver="550.54.15")
    assert gpu == parse_nvidia_smi(SMI_H100, cuda="12.8")
    assert gpu_from_torch(SimpleNamespace(is_available=lambda: False), None) is None


def test_detect_gpu_runs_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_nvidia_smi(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    gpu = detect_gpu()
    assert gpu is not None and gpu.model == "NVIDIA H100 80GB HBM3" and gpu.driver == "550.54.15"
    assert gpu.cuda in ("12.4", parse_torch_build_cuda(TORCH_VERSION_CUDA))  # torch's own build wins when CUDA
    assert current().gpu_model == "NVIDIA H100 80GB HBM3"


def test_the_machine_name_follows_cpu_and_gpu_but_not_the_driver() -> None:
    assert EPYC.machine_name == "amd-epyc-7b13-16c-avx2"
    assert _with_gpu().machine_name == "amd-epyc-7b13-16c-avx2-nvidia-h100-80gb-hbm3-cuda12.8"
    assert _with_gpu(gpu_driver="560.28.03").machine_name == _with_gpu().machine_name
    assert _with_gpu(gpu_count=2).machine_name == "amd-epyc-7b13-16c-avx2-2x-nvidia-h100-80gb-hbm3-cuda12.8"
    assert _with_gpu(cuda="12.4").machine_name != _with_gpu().machine_name


def test_the_asv_record_carries_every_field_of_the_fingerprint() -> None:
    record = asv_machine_record(_with_gpu())
    assert record["machine"] == _with_gpu().machine_name
    assert record["cpu"].startswith("AMD EPYC 7B13 64-Core Processor (16 cores; avx2 fma); GPU NVIDIA H100 80GB HBM3")
    assert (record["num_cpu"], record["ram"], record["torch"]) == ("16", "128GB", "2.13.0")
    assert (record["gpu"], record["gpu_memory"], record["gpu_driver"], record["cuda"]) == (
        "1x NVIDIA H100 80GB HBM3",
        "79.6 GB",
        "550.54.15",
        "12.8",
    )
    assert "gpu" not in asv_machine_record(EPYC)


def test_recording_a_machine_keeps_the_other_machines_of_asvs_file(tmp_path: Path) -> None:
    path = tmp_path / ".asv-machine.json"
    path.write_text(json.dumps({"laptop": {"machine": "laptop", "cpu": "x"}, "version": 1}))
    name = record_machine(_with_gpu(), path)
    data = json.loads(path.read_text())
    assert set(data) == {"laptop", name, "version"} and data["version"] == 1
    assert data[name]["gpu_driver"] == "550.54.15"
    assert [p.name for p in tmp_path.iterdir()] == [".asv-machine.json"]


@pytest.mark.parametrize(
    ("requested", "model", "count", "expected"),
    [
        ("H100", "NVIDIA H100 80GB HBM3", 1, True),
        ("h100", "NVIDIA H100 80GB HBM3", 1, True),
        ("A100-80GB", "NVIDIA A100-SXM4-80GB", 1, True),
        ("A100-80GB", "NVIDIA A100-SXM4-40GB", 1, False),
        ("T4", "Tesla T4", 1, True),
        ("L4", "NVIDIA L40S", 1, False),
        ("H100:2", "NVIDIA H100 80GB HBM3", 2, True),
        ("H100:2", "NVIDIA H100 80GB HBM3", 1, False),
        ("H100", "", 0, False),
    ],
)
def test_gpu_types_match_models_as_modal_names_them(requested: str, model: str, count: int, expected: bool) -> None:
    assert gpu_matches(requested, model, count) is expected
