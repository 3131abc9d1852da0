"""Memory by phase repeats: a phase's figure depends on the phase's code, not on the process's history.

The fast tests drive the suite's measuring helpers (`benchmarks.memory`) on phases of known size in
fresh interpreters, one of which first leaves holes in the heap, as earlier benchmarks and phases
do: a resident-memory delta read naively then reads ~0 where the phase touches 15 MB. The slow test
runs the real phases (both model loads, the corpus vectors, the store in the real PostgreSQL, 40
claims verified, a warm batch through each model) twice and requires every figure to repeat within 5%.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import memory

REPO = Path(__file__).resolve().parents[1]
BLOCK_BYTES = 100_000  # below glibc's default mmap threshold: these blocks live in the heap
PHASE_BLOCKS = 150
REPEAT_WITHIN = 0.05

# A phase of known size (150 blocks of 100 kB, touched), measured by `phase_peak_bytes` in a fresh
# interpreter; with `history`, the process first leaves 200 freed blocks as holes in its heap.
_PHASE_SCRIPT = r"""
import sys
import numpy as np
from benchmarks.memory import phase_peak_bytes

block = {block} // 8
kept = []
if sys.argv[1] == "history":
    blocks = [np.ones(block) for _ in range(400)]
    kept = blocks[1::2]  # every other block stays, so the freed ones cannot merge and be returned
    del blocks

def phase():
    held = [np.ones(block) for _ in range({blocks})]

print(phase_peak_bytes(phase))
"""


def _phase_in_fresh_process(history: str) -> int:
    script = _PHASE_SCRIPT.format(block=BLOCK_BYTES, blocks=PHASE_BLOCKS)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-c", script, history], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.strip().splitlines()[-1])


def test_a_phase_costs_the_same_whatever_the_process_freed_before_it() -> None:
    fresh = _phase_in_fresh_process("fresh")
    after_holes = _phase_in_fresh_process("history")
    touched = BLOCK_BYTES * PHASE_BLOCKS
    assert fresh >= 0.9 * touched, f"a phase touching {touched} bytes read {fresh}"
    assert abs(after_holes - fresh) <= REPEAT_WITHIN * fresh, (
        f"the same phase read {fresh} bytes in a fresh process and {after_holes} after the heap had holes"
    )


def test_a_peak_that_lasts_a_moment_is_counted_whole() -> None:
    """An 8 MB buffer made and dropped within a few milliseconds, faster than any sampler."""
    size = 8_000_000
    peak = memory.resident_peak_bytes(lambda: np.ones(size // 8))
    assert 0.95 * size <= peak <= size + 2_000_000


def test_traced_figures_count_numpy_buffers_and_repeat_to_the_byte_nearly() -> None:
    def phase() -> None:
        held = [np.ones(1_000_000 // 8) for _ in range(3)]
        del held

    first, second = memory.traced_peak_bytes(phase), memory.traced_peak_bytes(phase)
    assert 3_000_000 <= first <= 3_100_000
    assert abs(first - second) <= 1_000  # tracemalloc's own bookkeeping moves by a few words


@pytest.mark.slow
@pytest.mark.db
@pytest.mark.models
def test_every_pipeline_phase_repeats_within_5_percent(
    first_use: object, database_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two fresh measurements of every phase of a real run (as two asv runs make them) agree within 5%."""
    monkeypatch.setenv("VERACITY_DATABASE_URL", database_dsn)
    runs = []
    for _ in range(2):
        phases: dict[str, int] = {}
        for what in ("embedding", "nli", "pipeline", "batches"):
            phases.update(memory.run_child(what))
        runs.append(phases)
    assert set(runs[0]) == {*memory.PHASES, "encode_batch", "predict_batch"}
    spread = {p: max(r[p] for r in runs) / min(r[p] for r in runs) - 1 for p in runs[0]}
    moved = {p: f"{s:.1%}" for p, s in spread.items() if s > REPEAT_WITHIN}
    assert not moved, f"phases moved between identical runs: {moved}; figures: {json.dumps(runs)}"
