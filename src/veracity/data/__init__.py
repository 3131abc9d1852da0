"""The shipped, versioned datasets (evidence corpus, labelled claims, NLI pairs), checksum-verified on load."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from veracity.errors import DatasetError

VERDICTS = ("supported", "refuted", "not_enough_info")
# The NLI model's output order: row i of its logits is NLI_LABELS[i].
NLI_LABELS = ("entailment", "neutral", "contradiction")
NLI_SPLITS = ("train", "test")

DATA_DIR = Path(__file__).parent
MANIFEST = "manifest.json"
CORPUS_FILE, CLAIMS_FILE, NLI_FILE = "corpus.jsonl", "claims.jsonl", "nli_pairs.jsonl"
DATASET_FILES = (CORPUS_FILE, CLAIMS_FILE, NLI_FILE)
_FIX = "reinstall veracity, or run `python -m veracity.data.generate` to regenerate the datasets"

T = TypeVar("T")


@dataclass(frozen=True)
class Passage:
    """One evidence passage of the corpus."""

    id: str
    title: str
    text: str


@dataclass(frozen=True)
class Claim:
    """A claim with its gold verdict and the ids of the passages that decide it."""

    id: str
    claim: str
    verdict: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class NliPair:
    """A labelled premise/hypothesis pair; `group` is the template family held out as a whole."""

    id: str
    premise: str
    hypothesis: str
    label: str
    split: str
    group: str


def data_file(name: str, directory: Path | None = None) -> Path:
    """Path of a dataset file, or DatasetError if it is missing."""
    path = (directory or DATA_DIR) / name
    if not path.is_file():
        raise DatasetError(f"dataset file {name} is missing from {path.parent}; {_FIX}")
    return path


def file_sha256(name: str, directory: Path | None = None) -> str:
    """SHA-256 of a dataset file as it is on disk (not as the manifest says it should be)."""
    return hashlib.sha256(data_file(name, directory).read_bytes()).hexdigest()


def _manifest(directory: Path | None) -> dict[str, Any]:
    path = data_file(MANIFEST, directory)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        _ = manifest["version"], manifest["files"]
    except (ValueError, KeyError, TypeError) as exc:
        raise DatasetError(f"dataset manifest {path} is unreadable ({exc}); {_FIX}") from None
    return manifest


def _expected_sha256(name: str, directory: Path | None) -> str:
    try:
        return str(_manifest(directory)["files"][name]["sha256"])
    except (KeyError, TypeError):
        raise DatasetError(f"dataset manifest does not list {name}; {_FIX}") from None


def _check(name: str, data: bytes, directory: Path | None) -> None:
    if hashlib.sha256(data).hexdigest() != _expected_sha256(name, directory):
        raise DatasetError(
            f"dataset file {name} in {directory or DATA_DIR} fails its checksum (corrupt or edited); {_FIX}"
        )


def dataset_version(directory: Path | None = None) -> str:
    """The datasets' version, as recorded in the manifest."""
    return str(_manifest(directory)["version"])


def verify_checksums(directory: Path | None = None) -> None:
    """Check every dataset file against the manifest; DatasetError names the first bad one."""
    for name in DATASET_FILES:
        _check(name, data_file(name, directory).read_bytes(), directory)


@functools.lru_cache(maxsize=16)
def _parsed(name: str, directory: Path, stamp: tuple[int, int], parse: Callable[[dict[str, Any]], T]) -> tuple[T, ...]:
    # `stamp` (mtime, size) is only part of the key: a file replaced on disk is read again.
    data = (directory / name).read_bytes()
    _check(name, data, directory)
    records = []
    for number, line in enumerate(data.decode("utf-8").splitlines(), start=1):
        try:
            records.append(parse(json.loads(line)))
        except (ValueError, KeyError, TypeError) as exc:
            raise DatasetError(f"{name} line {number} is malformed ({exc}); {_FIX}") from None
    return tuple(records)


def _load(name: str, directory: Path | None, parse: Callable[[dict[str, Any]], T]) -> list[T]:
    path = data_file(name, directory)
    stat = path.stat()
    return list(_parsed(name, path.parent, (stat.st_mtime_ns, stat.st_size), parse))


def _one_of(value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{value!r} is not one of {allowed}")
    return str(value)


def _passage(r: dict[str, Any]) -> Passage:
    return Passage(id=str(r["id"]), title=str(r["title"]), text=str(r["text"]))


def _claim(r: dict[str, Any]) -> Claim:
    evidence = r["evidence"]
    if not isinstance(evidence, list):
        raise TypeError("evidence must be a list of passage ids")
    return Claim(
        id=str(r["id"]),
        claim=str(r["claim"]),
        verdict=_one_of(r["verdict"], VERDICTS),
        evidence=tuple(str(e) for e in evidence),
    )


def _nli_pair(r: dict[str, Any]) -> NliPair:
    return NliPair(
        id=str(r["id"]),
        premise=str(r["premise"]),
        hypothesis=str(r["hypothesis"]),
        label=_one_of(r["label"], NLI_LABELS),
        split=_one_of(r["split"], NLI_SPLITS),
        group=str(r["group"]),
    )


def load_corpus(directory: Path | None = None) -> list[Passage]:
    """Every evidence passage, in id order."""
    return _load(CORPUS_FILE, directory, _passage)


def load_claims(directory: Path | None = None) -> list[Claim]:
    """Every labelled claim, in id order."""
    return _load(CLAIMS_FILE, directory, _claim)


def load_nli_pairs(split: str | None = None, directory: Path | None = None) -> list[NliPair]:
    """NLI pairs of one split ("train" or "test"), or all of them when `split` is None."""
    if split is not None and split not in NLI_SPLITS:
        raise ValueError(f"unknown NLI split {split!r}; expected one of {NLI_SPLITS}")
    pairs = _load(NLI_FILE, directory, _nli_pair)
    return pairs if split is None else [p for p in pairs if p.split == split]


__all__ = [
    "NLI_LABELS",
    "NLI_SPLITS",
    "VERDICTS",
    "Claim",
    "NliPair",
    "Passage",
    "data_file",
    "dataset_version",
    "file_sha256",
    "load_claims",
    "load_corpus",
    "load_nli_pairs",
    "verify_checksums",
]
