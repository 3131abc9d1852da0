"""Where exported ONNX models are cached, under what key, and how a folder appears there whole or not at all.

`<cache>/models/onnx-<kind>-<precision>-<key>/` holds `model.onnx` and `veracity_onnx.json`. The key
hashes the source model's files (path, names, sizes, mtimes), the export recipe and the versions
of the libraries that trace and run the graph, so a retrained model, a new recipe or an upgraded
exporter builds a new folder and an unchanged setup reuses the old one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from veracity.fsutil import atomic_write_text, ensure_writable_dir

RECIPE_VERSION = (
    "3: torchscript export opset 17, eval mode, eager attention; int8 = quantize_dynamic of MatMul only, "
    "per-channel QInt8 weights, u8 activations; mixed = products with input peak/RMS > 60 kept fp32"
)
MODEL_FILE = "model.onnx"
METADATA_FILE = "veracity_onnx.json"
VERSIONED_PACKAGES = ("torch", "transformers", "sentence-transformers", "onnx", "onnxruntime")


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape the exported graph or run it."""
    versions = {}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def source_dir(model: str) -> Path | None:
    """The local folder a model was loaded from: its path, or its snapshot in the Hugging Face cache."""
    if Path(model).is_dir():
        return Path(model)
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True))
    except Exception:  # not cached, or not a hub id: the name alone identifies it
        return None


def source_identity(model: str) -> dict[str, Any]:
    """What identifies a source model's content cheaply: its folder and every file's name, size and mtime."""
    folder = source_dir(model)
    if folder is None:
        return {"model": model}
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    stats = [(str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in files]
    return {"model": model, "folder": str(folder.resolve()), "files": stats}


def cache_key(kind: str, model: str) -> str:
    """Key of the ONNX models exported from `model` for `kind` ("embedding" or "nli")."""
    payload = {
        "kind": kind,
        "source": source_identity(model),
        "recipe": RECIPE_VERSION,
        "versions": package_versions(),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def onnx_dir(cache_dir: Path, kind: str, precision: str, key: str) -> Path:
    return cache_dir / "models" / f"onnx-{kind}-{precision}-{key}"


def is_complete(folder: Path) -> bool:
    """True for a finished model folder (its metadata is written last, before the folder is renamed in)."""
    return (folder / MODEL_FILE).is_file() and (folder / METADATA_FILE).is_file()


def read_metadata(folder: Path) -> dict[str, Any]:
    """The metadata saved beside a cached ONNX model."""
    return json.loads((folder / METADATA_FILE).read_text())


@contextlib.contextmanager
def _build_lock(models_dir: Path) -> Iterator[None]:
    """One export at a time across processes (pytest and asv may start together)."""
    with open(models_dir / ".onnx.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def update_metadata(folder: Path, update: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
    """Rewrite a finished folder's metadata with `update(metadata)` (None keeps it), under the build lock.

    The new metadata replaces the old in one rename, so a reader sees one or the other.
    """
    with _build_lock(folder.parent):
        meta = read_metadata(folder)
        new = update(meta)
        if new is None:
            return meta
        atomic_write_text(folder / METADATA_FILE, json.dumps(new, indent=2) + "\n")
        return new


def build_once(target: Path, build: Callable[[Path], dict[str, Any]]) -> bool:
    """Make `target` with `build(staging folder) -> metadata` unless it exists; True if it was built.

    `build` writes `model.onnx` into a temporary sibling folder; the metadata is saved there and
    the folder renamed to `target` in one step, so an interrupted or failed build leaves nothing
    behind that a later run could mistake for a model.
    """
    if is_complete(target):
        return False
    models_dir = ensure_writable_dir(target.parent, "model cache")
    with _build_lock(models_dir):
        if is_complete(target):  # another process built it while we waited
            return False
        staging = Path(tempfile.mkdtemp(dir=models_dir, prefix=f".{target.name}."))
        try:
            meta = build(staging)
            atomic_write_text(staging / METADATA_FILE, json.dumps(meta, indent=2) + "\n")
            if target.exists():  # a folder without its metadata is not a model: replace it
                shutil.rmtree(target)
            staging.rename(target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return True
