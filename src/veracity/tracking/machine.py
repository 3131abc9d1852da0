"""The hardware a figure was measured on: CPU model, ISA level, cores, RAM, GPU, torch — and an asv machine name.

asv names a machine after its hostname and records no GPU (asv issue 760), so results from two
different CPUs or cards could land in one history. The name built here changes whenever the
hardware that sets the numbers does, and never merely because the hostname did.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from veracity.cpuinfo import cpu_flags, cpu_model
from veracity.errors import ConfigError
from veracity.fsutil import atomic_write_text

ISA_FLAGS = ("avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "avx2", "fma")
ASV_MACHINE_FILE_VERSION = 1


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
    gpu_count: int = 0

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
        """A stable asv machine name, e.g. `amd-epyc-7b13-2c-avx2` or `...-avx512-nvidia-h100-80gb-hbm3-cuda12.8`.

        It holds what sets the numbers and rarely changes: CPU, cores, ISA, GPU model and count, and
        the CUDA that torch was built with. Driver and torch versions are only in the record: cloud
        fleets update drivers often, and torch is pinned by the asv environment.
        """
        name = f"{_slug(self.cpu_model)}-{self.cores}c-{self.isa}"
        if self.gpu_model:
            name += f"-{self.gpus}x" if self.gpus > 1 else ""
            name += f"-{_slug(self.gpu_model)}"
            name += f"-cuda{self.cuda}" if self.cuda else ""
        return name

    @property
    def gpus(self) -> int:
        """How many GPUs (a record with a model but no count has one)."""
        return max(self.gpu_count, 1) if self.gpu_model else 0

    def cpu_description(self) -> str:
        """The asv `cpu` field: model, cores and the ISA flags that matter, then GPU and torch."""
        flags = " ".join(f for f in ISA_FLAGS if f in self.cpu_flags) or "no AVX"
        text = f"{self.cpu_model} ({self.cores} cores; {flags})"
        if self.gpu_model:
            count = f"{self.gpus}x " if self.gpus > 1 else ""
            text += f"; GPU {count}{self.gpu_model} {self.gpu_memory_gb:g} GB"
            text += f", driver {self.gpu_driver}, CUDA {self.cuda}"
        return text + f"; torch {self.torch}"

    def to_json(self) -> dict:
        return asdict(self)


def gpu_matches(requested: str, gpu_model: str, count: int = 1) -> bool:
    """Whether a GPU type as Modal spells it (`H100`, `A100-80GB`, `L40S:2`) names this model and count."""
    kind, _, wanted = requested.partition(":")
    if wanted and (not wanted.isdigit() or int(wanted) != count):
        return False
    have = set(_slug(gpu_model).split("-"))
    return bool(gpu_model) and set(_slug(kind).split("-")) <= have


def _slug(text: str) -> str:
    text = re.sub(r"\((r|tm)\)|\bcpu\b|\bprocessor\b|@.*$|\d+-core", " ", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:40] or "unknown"


def _ram_gb() -> int:
    try:
        return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError):
        return 0


def current(*, probe_gpu: bool = True) -> Fingerprint:
    """This machine's fingerprint; the GPU fields stay empty without an NVIDIA GPU (or with probe_gpu=False).

    Nothing here imports torch (9-13 s on a busy machine): its version comes from the installed
    metadata, the GPU from nvidia-smi, and CUDA from the version torch was built with.
    """
    model, flags = cpu_model(), cpu_flags()
    gpu = detect_gpu() if probe_gpu else None
    return Fingerprint(
        cpu_model=model,
        cpu_flags=tuple(f for f in sorted(flags) if f in ISA_FLAGS),
        cores=os.cpu_count() or 1,
        ram_gb=_ram_gb(),
        arch=platform.machine(),
        os=f"{platform.system()} {platform.release()}",
        torch=_torch_version(),
        **(gpu.fields() if gpu else {}),  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class GpuInfo:
    """The first GPU of a machine (all of them are assumed alike) and how many there are."""

    model: str
    memory_gb: float
    driver: str
    cuda: str
    count: int = 1

    def fields(self) -> dict[str, object]:
        return {
            "gpu_model": self.model,
            "gpu_memory_gb": self.memory_gb,
            "gpu_driver": self.driver,
            "cuda": self.cuda,
            "gpu_count": self.count,
        }


# `nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits`
NVIDIA_SMI_QUERY = ("--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits")


def parse_nvidia_smi(query_output: str, cuda: str = "") -> GpuInfo | None:
    """GPU facts from the output of `nvidia-smi` with NVIDIA_SMI_QUERY (one CSV line per GPU; memory in MiB)."""
    rows = [[cell.strip() for cell in line.split(",")] for line in query_output.splitlines() if line.strip()]
    rows = [row for row in rows if len(row) == 3 and row[0]]
    if not rows:
        return None
    name, memory_mib, driver = rows[0]
    try:
        memory_gb = round(float(memory_mib) / 1024, 1)
    except ValueError:
        memory_gb = 0.0
    return GpuInfo(model=name, memory_gb=memory_gb, driver=driver, cuda=cuda, count=len(rows))


def parse_smi_cuda_version(banner: str) -> str:
    """The `CUDA Version: 12.4` of plain `nvidia-smi`'s banner: the newest CUDA the driver supports."""
    found = re.search(r"CUDA Version:\s*([\d.]+)", banner)
    return found.group(1) if found else ""


def gpu_from_torch(cuda_module: object, torch_cuda: str | None, driver: str = "") -> GpuInfo | None:
    """GPU facts from `torch.cuda` (passed in, so a test can give a stand-in) and `torch.version.cuda`."""
    if not cuda_module.is_available():  # type: ignore[attr-defined]
        return None
    props = cuda_module.get_device_properties(0)  # type: ignore[attr-defined]
    return GpuInfo(
        model=props.name,
        memory_gb=round(props.total_memory / 2**30, 1),
        driver=driver,
        cuda=torch_cuda or "",
        count=cuda_module.device_count(),  # type: ignore[attr-defined]
    )


def parse_torch_build_cuda(version_py: str) -> str:
    """The CUDA version torch was built with, from the text of torch/version.py (`cuda: Optional[str] = '12.8'`)."""
    found = re.search(r"^cuda(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", version_py, re.MULTILINE)
    return found.group(1) if found else ""


def _run_nvidia_smi(*args: str) -> str | None:
    executable = shutil.which("nvidia-smi")
    if not executable:
        return None
    try:
        done = subprocess.run([executable, *args], capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def detect_gpu() -> GpuInfo | None:
    """The NVIDIA GPU of this machine, or None. CUDA is the version torch was built with (what the
    benchmarks run), else the driver's; torch itself is imported only when nvidia-smi is missing but a
    driver is loaded."""
    cuda = _torch_build_cuda()
    output = _run_nvidia_smi(*NVIDIA_SMI_QUERY)
    if output is not None:
        if not cuda:
            cuda = parse_smi_cuda_version(_run_nvidia_smi() or "")
        return parse_nvidia_smi(output, cuda)
    driver = _nvidia_driver()
    if not driver:
        return None
    try:
        import torch
    except ImportError:
        return None
    return gpu_from_torch(torch.cuda, torch.version.cuda, driver)


def _torch_version() -> str:
    try:
        return importlib.metadata.version("torch")
    except importlib.metadata.PackageNotFoundError:
        return ""


def _torch_build_cuda() -> str:
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return ""
    if spec is None or not spec.submodule_search_locations:
        return ""
    version_py = Path(next(iter(spec.submodule_search_locations))) / "version.py"
    try:
        return parse_torch_build_cuda(version_py.read_text(encoding="utf-8"))
    except OSError:
        return ""


def _nvidia_driver() -> str:
    path = Path("/proc/driver/nvidia/version")
    if path.is_file() and (found := re.search(r"Kernel Module\s+([\d.]+)", path.read_text())):
        return found.group(1)
    return ""


# --- the asv machine record ----------------------------------------------------------------------


def asv_machine_record(fingerprint: Fingerprint) -> dict[str, str]:
    """The machine's entry for ~/.asv-machine.json: asv's six fields plus the ones asv lacks.

    asv copies the whole entry into results/<machine>/machine.json, `asv publish` copies that into
    html/index.json, and the site shows every key in the machine's tooltip: the GPU, driver, CUDA and
    torch versions travel with the results that way.
    """
    record = {
        "machine": fingerprint.machine_name,
        "os": fingerprint.os,
        "arch": fingerprint.arch,
        "cpu": fingerprint.cpu_description(),
        "num_cpu": str(fingerprint.cores),
        "ram": f"{fingerprint.ram_gb}GB",
        "cpu_flags": " ".join(f for f in ISA_FLAGS if f in fingerprint.cpu_flags),
        "torch": fingerprint.torch,
    }
    if fingerprint.gpu_model:
        record |= {
            "gpu": f"{fingerprint.gpus}x {fingerprint.gpu_model}",
            "gpu_memory": f"{fingerprint.gpu_memory_gb:g} GB",
            "gpu_driver": fingerprint.gpu_driver,
            "cuda": fingerprint.cuda,
        }
    return record


def asv_machine_file() -> Path:
    """Where asv keeps machine records (it expands `~` the same way)."""
    return Path(os.path.expanduser("~/.asv-machine.json"))


def record_machine(fingerprint: Fingerprint, path: Path | None = None) -> str:
    """Write this fingerprint's full record into asv's machine file (atomically) and return its name.

    `asv machine --yes` takes only asv's six fields; the GPU fields are added here so that the next
    `asv run --machine NAME` carries them into the results. Other machines' entries are kept.
    """
    path = path or asv_machine_file()
    data: dict = {}
    if path.is_file():
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path} cannot be read ({exc}); fix or delete it, then re-run") from None
        if isinstance(loaded, dict):
            data = loaded
    record = asv_machine_record(fingerprint)
    data[record["machine"]] = {**(data.get(record["machine"]) or {}), **record}
    data["version"] = ASV_MACHINE_FILE_VERSION
    atomic_write_text(path, json.dumps(data, indent=4, sort_keys=True) + "\n")
    return record["machine"]
