"""The search of `veracity bisect`: first-parent commits, a probe per step, skips as `git bisect skip`.

The search knows nothing of asv: a probe judges one candidate commit against the current good end
and answers worse, not worse, or skip (it did not build, its benchmark failed, or the judgement
stayed inconclusive after its re-runs). Each step probes the untested commit nearest the middle of
the open range; a skipped commit is left out of the range's middle, as `git bisect skip` does, and
when every commit left in the range was skipped the answer is the range itself.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


class Step(enum.StrEnum):
    WORSE = "worse"  # the candidate is worse than the good end: the first bad commit is at or before it
    GOOD = "good"  # not worse: the first bad commit is after it
    SKIP = "skip"  # cannot tell (does not build, benchmark failed, inconclusive): try a neighbour


@dataclass(frozen=True)
class ProbeResult:
    """One probe: `candidate` judged against `good` (the current good end of the range)."""

    good: str
    candidate: str
    step: Step
    detail: str = ""  # the ratio and noise figure, or why the probe was skipped
    seconds: float = 0.0
    ratio: float | None = None
    noise_source: str = ""


Probe = Callable[[str, str], ProbeResult]  # (good end, candidate) -> result


@dataclass
class Search:
    """The result of a search over `commits` (oldest first; commits[0] is GOOD, commits[-1] is BAD)."""

    commits: Sequence[str]
    probes: list[ProbeResult] = field(default_factory=list)
    first_bad: str | None = None  # None: not found (range not worse, or every candidate skipped)
    suspects: tuple[str, ...] = ()  # when skips leave several commits, every one that may be first bad
    last_good: str | None = None


def _next_candidate(lo: int, hi: int, skipped: set[int]) -> int | None:
    """The untested index in (lo, hi) nearest the middle, or None when all of them were skipped."""
    open_range = [i for i in range(lo + 1, hi) if i not in skipped]
    if not open_range:
        return None
    middle = (lo + hi) / 2
    return min(open_range, key=lambda i: (abs(i - middle), i))


def bisect(commits: Sequence[str], probe: Probe, *, bad_probe: ProbeResult | None = None) -> Search:
    """Find the first commit of `commits` (oldest first) at which `probe` calls the change worse.

    `bad_probe`: the probe of the last commit against the first, when the caller made it already
    (the check that the range holds a regression at all). Without it the search makes it first.
    """
    if len(commits) < 2:
        raise ValueError("bisect needs a good and a bad commit")
    search = Search(commits)
    first = bad_probe or probe(commits[0], commits[-1])
    search.probes.append(first)
    if first.step is not Step.WORSE:
        search.last_good = commits[0]
        return search
    lo, hi = 0, len(commits) - 1
    skipped: set[int] = set()
    while hi - lo > 1:
        mid = _next_candidate(lo, hi, skipped)
        if mid is None:
            break
        result = probe(commits[lo], commits[mid])
        search.probes.append(result)
        if result.step is Step.WORSE:
            hi = mid
        elif result.step is Step.GOOD:
            lo = mid
        else:
            skipped.add(mid)
    suspects = [commits[i] for i in range(lo + 1, hi + 1)]
    search.last_good = commits[lo]
    if len(suspects) == 1:
        search.first_bad = suspects[0]
    search.suspects = tuple(suspects)
    return search
