"""Work counts: instructions each stage's body executes under valgrind's callgrind, client and server.

Wall-clock timings on a shared 2-CPU machine move by 5-40% between identical runs; the number of
instructions a body executes repeats to far better than 1% whatever the neighbours do (CodSpeed's
answer to noisy CI runners). One callgrind run per commit counts every stage (`benchmarks.workcount`):
the models load uninstrumented, each body is counted alone, and the vector search's PostgreSQL
backend is counted too, searching a byte-identical HNSW index on every run. Counts cannot see memory
bandwidth, cache misses, threads or waits: they stand beside the timings, never instead of them
(docs/work-counts.md). Without valgrind every benchmark here is skipped with one line saying how to
install it.
"""

from __future__ import annotations

import subprocess
import sys

from benchmarks.common import Tracked, descriptive
from benchmarks.run_cache import once_per_run
from veracity.tracking.direction import lower_is_better

INSTRUCTIONS = "instructions"


def _measure_or_error() -> dict:
    """The counts, or the failure as a value: remembered either way, so that a failed run fails every
    work benchmark at once instead of being paid again by each of them."""
    from benchmarks.workcount import measure

    try:
        return measure()
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def _counts() -> dict:
    counts = once_per_run("work.counts", _measure_or_error)
    if "error" in counts:
        raise RuntimeError(f"the work-count run failed: {counts['error']}")
    return counts


class WorkCounts(Tracked):
    """One figure a stage: the body's instructions (the client process plus, for the stages that search,
    the PostgreSQL backend); the server's share and the search's buffer accesses on their own."""

    # The first benchmark to ask pays for the whole callgrind run (a few minutes); the rest read it.
    timeout = 1800

    def setup(self) -> None:
        from benchmarks.callgrind import INSTALL_HINT, client_requests, find_valgrind

        try:
            find_valgrind()
            client_requests()
        except NotImplementedError as exc:
            if str(exc) == INSTALL_HINT:
                once_per_run("work.install_hint", lambda: print(INSTALL_HINT, file=sys.stderr) or {})
            raise

    @lower_is_better(INSTRUCTIONS)
    def track_embedding_instructions(self) -> int:
        """Encoding one batch of 4 short claims (the product's default forward pass)."""
        return int(_counts()["embedding"])

    @lower_is_better(INSTRUCTIONS)
    def track_nli_instructions(self) -> int:
        """Classifying one batch of 2 (passage, claim) pairs."""
        return int(_counts()["nli"])

    @lower_is_better(INSTRUCTIONS)
    def track_vector_search_instructions(self) -> int:
        """50 top-10 HNSW queries (10k clustered vectors, m 16, ef_search 40): client and backend."""
        return int(_counts()["vector_search"])

    @lower_is_better(INSTRUCTIONS)
    def track_vector_search_server_instructions(self) -> int:
        """The same 50 queries, the PostgreSQL backend alone (plan at bind and execution)."""
        return int(_counts()["vector_search_server"])

    @lower_is_better("buffers")
    def track_vector_search_buffers(self) -> int:
        """Shared buffers the 50 queries touch (hits + reads, from EXPLAIN (ANALYZE, BUFFERS))."""
        counts = _counts()
        if "search_buffers" not in counts:
            raise NotImplementedError("this commit's store does not expose its search statement")
        return int(counts["search_buffers"])

    @lower_is_better(INSTRUCTIONS)
    def track_pipeline_instructions(self) -> int:
        """Verifying 1 shipped claim end to end (embed, HNSW top-2 over the corpus, NLI): client and backend."""
        return int(_counts()["pipeline"])

    @lower_is_better(INSTRUCTIONS)
    def track_pipeline_server_instructions(self) -> int:
        """The same claim, the PostgreSQL backend alone."""
        return int(_counts()["pipeline_server"])

    @descriptive("seconds")
    def track_work_count_seconds(self) -> float:
        """What the whole callgrind run cost on this machine (wall clock): a cost, not a result."""
        return float(_counts()["seconds"])
