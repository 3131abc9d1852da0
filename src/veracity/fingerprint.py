"""The hardware a figure was measured on: CPU model, ISA level, cores, RAM, GPU, torch — and an asv machine name.

asv names a machine after its hostname and records no GPU (asv issue 760), so results from two
different CPUs or cards could land in one history. The name built here changes whenever the
hardware that sets the numbers does, and never merely because the hostname did.
"""

from __future__ import annotations

import os
import platform
import re
from dataclasses import asdict, dataclass
from pathlib import Path

ISA_FLAGS = ("avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "avx2", "fma")


@dataclass(frozen=True)
class Fingerprint:
    """What makes two machines' benchmark numbers comparable or not."""

    cpu_model: str
    cpu_flags: tuple[str, ...]
    cores: int
    ram_gb: int
    arch: str
    os: str
    torch: str
    gpu_model: str = ""
    gpu_memory_gb: float = 0.0
    gpu_driver: str = ""
    cuda: str = ""

    @property
    def isa(self) -> str:
        """The widest vector ISA: the thing that decides which fast path is fastest."""
        if "avx512f" in self.cpu_flags:
            return "avx512"
        if "avx2" in self.cpu_flags:
            return "avx2"
        return self.arch

    @property
    def machine_name(self) -> str:
        """A stable asv machine name, e.g. `amd-epyc-2c-avx512` or `...-nvidia-h100-80gb`."""
        name = f"{_slug(self.cpu_model)}-{self.cores}c-{self.isa}"
        if self.gpu_model:
            name += f"-{_slug(self.gpu_model)}"
        return name

    def cpu_description(self) -> str:
        """The asv `cpu` field: model, cores and the ISA flags that matter."""
        flags = " ".join(f for f in ISA_FLAGS if f in self.cpu_flags) or "no AVX"
        text = f"{self.cpu_model} ({self.cores} cores; {flags})"
        if self.gpu_model:
            text += f"; GPU {self.gpu_model} {self.gpu_memory_gb:g} GB, driver {self.gpu_driver}, CUDA {self.cuda}"
        return text + f"; torch {self.torch}"

    def to_json(self) -> dict:
        return asdict(self)


def _slug(text: str) -> str:
    text = re.sub(r"\((r|tm)\)|\bcpu\b|\bprocessor\b|@.*$|\d+-core", " ", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:40] or "unknown"


def _cpuinfo() -> tuple[str, tuple[str, ...]]:
    model, flags = platform.processor() or platform.machine(), ()
    path = Path("/proc/cpuinfo")
    if path.is_file():
        text = path.read_text(errors="replace")
        if found := re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE):
            model = found.group(1).strip()
        if found := re.search(r"^flags\s*:\s*(.+)$", text, re.MULTILINE):
            flags = tuple(sorted(set(found.group(1).split())))
    return model, flags


def _ram_gb() -> int:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError):
        return 0


def current(*, probe_gpu: bool = True) -> Fingerprint:
    """This machine's fingerprint; the GPU fields stay empty without CUDA (or with probe_gpu=False)."""
    model, flags = _cpuinfo()
    gpu: dict[str, object] = {}
    torch_version = ""
    try:
        import torch

        torch_version = torch.__version__
        if probe_gpu and torch.cuda.is_available():
            props = torch.cuda.get_device_properties(0)
            gpu = {
                "gpu_model": props.name,
                "gpu_memory_gb": round(props.total_memory / 2**30, 1),
                "gpu_driver": _nvidia_driver(),
                "cuda": torch.version.cuda or "",
            }
    except ImportError:
        pass
    return Fingerprint(
        cpu_model=model,
        cpu_flags=tuple(f for f in flags if f in ISA_FLAGS),
        cores=os.cpu_count() or 1,
        ram_gb=_ram_gb(),
        arch=platform.machine(),
        os=f"{platform.system()} {platform.release()}",
        torch=torch_version,
        **gpu,  # type: ignore[arg-type]
    )


def _nvidia_driver() -> str:
    path = Path("/proc/driver/nvidia/version")
    if path.is_file() and (found := re.search(r"Kernel Module\s+([\d.]+)", path.read_text())):
        return found.group(1)
    return ""
