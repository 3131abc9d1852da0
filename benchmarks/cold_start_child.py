"""One cold process, timed phase by phase; `benchmarks.cold_start` runs it in a fresh interpreter.

    python -P benchmarks/cold_start_child.py [BACKEND ...]

The last line of stdout is one JSON object: {"phases": {phase: seconds}, "loads": {backend:
{"embedding_load": s, "nli_load": s, "onnx_session": s}}}. The phases follow what a first
`veracity verify` does, in its order (`session.open_pipeline`): the imports, the embedding model, the
NLI model (`onnx_session`: the part of both loads spent making ONNX Runtime sessions), a throwaway
embedded PostgreSQL in a temporary directory (`server_init`: initdb and first start; `server_start`:
a later start of the same data directory), the corpus loaded into a store with its index, the first
query, then the first three claims: the first one cold, the next two warm after cold. `startup` is
the interpreter's own start (spawn to the first line here) and `first_verdict` the sum a user waits
from typing `veracity verify` on an installed machine to the first verdict: every phase up to
`first_claim` except `server_init`.

Each BACKEND named loads both models in a process forked right after the imports (before anything
else is loaded), so it starts exactly as cold as this process did and one interpreter's imports
serve every backend: "loads" holds those.

Nothing heavy is imported at module level: asv imports this module when it discovers the suite,
and the imports are a phase. Only what every benchmarked commit's `veracity` has is called.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

CLAIMS = 3  # the first claim is cold; the 2nd and 3rd are warm after cold, as the seeds' benchmark has it
DEFAULT = "default"  # the product's own choice of forward pass (`auto`)
SPAWNED_AT = "VERACITY_COLD_SPAWNED_AT"  # the parent's time.time() when it started this interpreter
FIRST_VERDICT = ("startup", "import", "embedding_load", "nli_load", "server_start", "store_load", "first_query")


class PhaseClock:
    """Seconds of each named phase, in the order they ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._started = time.perf_counter()

    def lap(self, phase: str) -> None:
        """Close `phase` now; the next phase starts here."""
        now = time.perf_counter()
        self.seconds[phase] = now - self._started
        self._started = now

    def restart(self) -> None:
        """Start the next phase now (what ran since belongs to no phase)."""
        self._started = time.perf_counter()


def _count_onnx_sessions(totals: dict[str, float]) -> None:
    """Add the wall time of every ONNX Runtime session made from now on to totals["onnx_session"]."""
    try:
        from veracity.pipeline.backends import runtime
    except ImportError:  # a commit before the ONNX backends: no sessions to count
        return
    made = runtime.OnnxForward.__init__

    def timed(self, *args, **kwargs) -> None:
        started = time.perf_counter()
        made(self, *args, **kwargs)
        totals["onnx_session"] = totals.get("onnx_session", 0.0) + time.perf_counter() - started

    runtime.OnnxForward.__init__ = timed


def _settings(backend: str):
    from veracity.config import Settings

    settings = Settings.from_env()
    if backend == DEFAULT:
        return settings
    return settings.with_overrides(embedding_backend=backend, nli_backend=backend)


def load_models(backend: str) -> tuple[dict[str, float], object, object, object]:
    """Load the embedding and NLI models with `backend`: (seconds by phase, settings, embedder, nli)."""
    from veracity.pipeline import session

    settings = _settings(backend)
    sessions: dict[str, float] = {}
    _count_onnx_sessions(sessions)
    clock = PhaseClock()
    embedder = session.load_embedder(settings)
    clock.lap("embedding_load")
    nli = session.load_nli(settings)
    clock.lap("nli_load")
    return {**clock.seconds, "onnx_session": sessions.get("onnx_session", 0.0)}, settings, embedder, nli


def load_in_fork(backend: str) -> dict[str, float]:
    """`load_models(backend)` in a forked copy of this process, which is then discarded."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report and leave without running any exit handler of the parent's
        os.close(read_end)
        status = 1
        try:
            os.write(write_end, json.dumps(load_models(backend)[0]).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not answer:
        raise RuntimeError(f"loading the models with backend {backend!r} failed in the forked process")
    return json.loads(answer)


def run(backends: list[str]) -> dict[str, dict]:
    clock = PhaseClock()
    spawned = os.environ.get(SPAWNED_AT)
    startup = max(0.0, time.time() - float(spawned)) if spawned else 0.0
    import sentence_transformers  # noqa: F401
    import torch
    import transformers  # noqa: F401

    from veracity.pipeline import session  # noqa: F401

    clock.lap("import")
    torch.set_num_threads(1)
    loads = {backend: load_in_fork(backend) for backend in backends}
    model_phases, settings, embedder, nli = load_models(DEFAULT)
    phases = {"startup": startup, **clock.seconds, **model_phases}
    with tempfile.TemporaryDirectory(prefix="veracity-cold-") as scratch:
        phases.update(first_claims(embedder, nli, settings, Path(scratch)))
    phases["first_verdict"] = sum(phases[name] for name in FIRST_VERDICT) + phases["first_claim"]
    return {"phases": phases, "loads": loads}


def first_claims(embedder, nli, settings, scratch: Path) -> dict[str, float]:
    """Server, store, first query and the first claims, on a throwaway server in `scratch`."""
    import numpy as np

    from veracity.data import load_claims
    from veracity.db.server import EmbeddedServer
    from veracity.pipeline import session
    from veracity.pipeline.verify import Verifier

    clock = PhaseClock()
    server = EmbeddedServer(scratch)
    server.start()
    clock.lap("server_init")
    server.stop()
    clock.restart()
    server = EmbeddedServer(scratch)
    dsn = server.start()
    clock.lap("server_start")
    try:
        vectors = session.cached_corpus_vectors(embedder, settings.cache_dir)
        on_server = settings.with_overrides(database_url=dsn)
        with session.open_store(on_server, vectors) as store:
            clock.lap("store_load")
            store.search(np.asarray(vectors[0]), on_server.top_k)
            clock.lap("first_query")
            verifier = Verifier(embedder, nli, store, session.corpus_units(), top_k=on_server.top_k)
            names = ("first_claim", "second_claim", "third_claim")
            for name, claim in zip(names, load_claims()[:CLAIMS], strict=True):
                verifier.verify(claim.claim)
                clock.lap(name)
    finally:
        server.stop()
    return clock.seconds


def main(argv: list[str]) -> None:
    print(json.dumps(run(argv)), flush=True)
    # Leave without the interpreter's teardown (seconds of torch and ONNX Runtime clean-up that no
    # phase measures and every repeat would pay): everything this process started is stopped above.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
