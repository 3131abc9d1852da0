"""Regenerates the shipped datasets, byte for byte: `python -m veracity.data.generate [--out DIR]`."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import tempfile
from collections.abc import Sequence
from pathlib import Path

from veracity.data import CLAIMS_FILE, CORPUS_FILE, DATA_DIR, MANIFEST, NLI_FILE
from veracity.data.claims import build_claims
from veracity.data.corpus import build_corpus
from veracity.data.nli import build_nli_pairs
from veracity.data.world import NameMaker, WorldSize, build_world

VERSION = "1.0.0"
SEED = 20_240_917

CORPUS_WORLD = WorldSize(towns=250, persons=360, companies=170, rivers=50, ships=140)
# The NLI worlds are separate, with their own names, so no claim is about an entity the NLI
# model was trained on; test entities are disjoint from train entities as well.
NLI_TRAIN_WORLD = WorldSize(towns=60, persons=90, companies=40, rivers=16, ships=36, near_duplicate_share=0.5)
NLI_TEST_WORLD = WorldSize(towns=30, persons=45, companies=20, rivers=10, ships=18, near_duplicate_share=0.5)
CLAIMS_PER_VERDICT = 80
NLI_TRAIN_PER_LABEL = 225
NLI_TEST_PER_LABEL = 75


def build(seed: int = SEED) -> dict[str, list[dict]]:
    """Every dataset's records, keyed by file name; the same seed always gives the same records."""
    # One name registry for all three worlds keeps their entity names disjoint.
    names = NameMaker(random.Random(seed))
    world = build_world(random.Random(seed + 1), names, CORPUS_WORLD)
    train_world = build_world(random.Random(seed + 2), names, NLI_TRAIN_WORLD, "nli-train/")
    test_world = build_world(random.Random(seed + 3), names, NLI_TEST_WORLD, "nli-test/")
    passages, evidence = build_corpus(world, random.Random(seed + 4))
    claims = build_claims(world, evidence, random.Random(seed + 5), CLAIMS_PER_VERDICT)
    pairs = build_nli_pairs(
        train_world,
        test_world,
        random.Random(seed + 6),
        NLI_TRAIN_PER_LABEL,
        NLI_TEST_PER_LABEL,
    )
    return {CORPUS_FILE: passages, CLAIMS_FILE: claims, NLI_FILE: pairs}


def _jsonl(records: Sequence[dict]) -> bytes:
    lines = (json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return "".join(lines).encode("utf-8")


def _write_atomic(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        # mkstemp makes the file private; package data must be readable by every user.
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def generate(out_dir: Path, seed: int = SEED) -> None:
    """Write the datasets and their manifest into `out_dir`, each file replaced atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, object]] = {}
    for name, records in build(seed).items():
        data = _jsonl(records)
        _write_atomic(out_dir / name, data)
        files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "records": len(records)}
    # The manifest goes last: a reader never sees a manifest for files not yet written.
    manifest = {"version": VERSION, "seed": seed, "files": files}
    _write_atomic(out_dir / MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="folder to write into")
    args = parser.parse_args(argv)
    generate(args.out)
    manifest = json.loads((args.out / MANIFEST).read_text(encoding="utf-8"))
    for name, entry in manifest["files"].items():
        print(f"{name}: {entry['records']} records, sha256 {entry['sha256'][:12]}")


if __name__ == "__main__":
    main()
