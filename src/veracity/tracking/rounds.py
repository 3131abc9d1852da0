"""Two commits measured round by round, one asv run a round, so each round's value of each benchmark is known.

asv's own interleaved rounds (`--interleave-rounds`) append every round's samples to one list
per benchmark, and the suite's benchmarks take a varying number of samples per round, so where one
round ends is not stored. Here each round is one `asv run` of both commits with every benchmark
reduced to one round (`-a rounds=1`), samples appended (`--append-samples`): after each run the
samples past those already read are that round's. A benchmark without samples (`track_*`,
`peakmem_*`) gives its value once a run, which is the round's.

The commits' order alternates from round to round (A B, B A, A B, ...): asv reinstalls the project
whenever the commit changes, so the order also saves one install a round (B stays installed from
the end of one round to the start of the next). Measured on the 2-vCPU AMD EPYC (busy): an install
(pip wheel and `veracity models build`) took 40-55 s, the forkserver's imports 20 s per commit; the
run's own discovery about 4 s, the one cost asv's single interleaved run would not pay per round.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import RunOptions, bench_regex, run_benchmarks, selected_by
from veracity.tracking.detect import Comparison, Observation, Policy, Verdict
from veracity.tracking.direction import plain_unit
from veracity.tracking.inrun import judge_rounds
from veracity.tracking.results import BenchmarkResult, ResultsStore
from veracity.tracking.stats import median

Log = Callable[[str], None]


@dataclass
class RoundValues:
    """Per (commit, environment, result key), one value per round the benchmark ran in (None where it failed)."""

    series: dict[tuple[str, str, str], list[float | None]] = field(default_factory=dict)

    def of(self, commit: str, env_name: str, key: str) -> list[float | None]:
        return self.series.get((commit, env_name, key), [])


class RoundRunner:
    """Measures `commits` (full hashes, two or more) round after round and keeps each round's values."""

    def __init__(
        self,
        config: AsvConfig,
        commits: Sequence[str],
        options: RunOptions,
        *,
        quiet: bool = False,
        log: Log = lambda _: None,
        keep_stored: bool = False,
    ) -> None:
        """`keep_stored`: the first round adds to the samples the result files hold (a history that
        `veracity compare` judged), rather than replacing them as a new measurement does."""
        self.config = config
        self.commits = list(dict.fromkeys(commits))
        self.options = options
        self.quiet = quiet
        self.log = log
        self.rounds_done = 0
        self.keep_stored = keep_stored
        self.values = RoundValues()
        self._read: dict[tuple[str, str, str], int] = {}  # samples already attributed to earlier rounds

    def run(self, rounds: int, keys: Sequence[str] | None = None) -> None:
        """`rounds` more rounds of the benchmarks `keys` select (result keys; None: the options' `bench`)."""
        bench = self.options.bench if keys is None else tuple(bench_regex(k) for k in keys)
        if self.keep_stored and self.rounds_done == 0:
            self._collect(bench, record=False)  # what the files hold already belongs to no round
        for _ in range(rounds):
            order = self.commits if self.rounds_done % 2 == 0 else self.commits[::-1]
            self.log(f"veracity: round {self.rounds_done + 1}: {' then '.join(c[:8] for c in order)}")
            run_options = replace(
                self.options,
                bench=bench,
                interleave=True,
                single_round=True,
                # The first round replaces what the files held (a run of other days); later ones add to it.
                append_samples=self.keep_stored or self.rounds_done > 0,
            )
            run_benchmarks(self.config, order, run_options, quiet=self.quiet)
            self.rounds_done += 1
            self._collect(bench)

    def _collect(self, bench: Sequence[str], *, record: bool = True) -> None:
        store = ResultsStore(self.config.results_dir)
        machine = store.pick_machine(self.options.machine)
        for commit in self.commits:
            for result in store.results_for(machine, commit):
                if not selected_by(bench, result.key):
                    continue
                if record:
                    self._record(commit, result)
                else:
                    self._read[commit, result.env_name, result.key] = len(result.samples or ())

    def _record(self, commit: str, result: BenchmarkResult) -> None:
        where = (commit, result.env_name, result.key)
        seen = self._read.get(where, 0)
        if result.samples:
            fresh = result.samples[seen:]
            self._read[where] = len(result.samples)
            value = median(fresh) if fresh else None
        else:
            self._read[where] = 0  # a failed round drops the samples asv kept; the next round starts afresh
            value = result.value if result.ok else None
        self.values.series.setdefault(where, []).append(value)


def judged_on_rounds(
    rows: list[Comparison], values: RoundValues, before: str, after: str, policy: Policy, *, final: bool
) -> list[Comparison]:
    """`rows` with every row that has two rounds or more on both sides judged on its rounds instead
    (tracking.inrun): its noise figure is the run's own."""
    out = []
    for row in rows:
        base, head = values.of(before, row.env_name, row.key), values.of(after, row.env_name, row.key)
        judged = None
        if row.verdict in (Verdict.WORSE, Verdict.BETTER, Verdict.UNCHANGED, Verdict.GREY):
            floor = policy.calibrated_floor
            judged = judge_rounds(
                base, head, higher_is_better=row.higher_is_better, floor=floor, final=final, unit=plain_unit(row.unit)
            )
        if judged is None:
            out.append(row)
            continue
        judgement, noise = judged
        b, a = ([v for v in side if v is not None] for side in (base, head))
        out.append(
            replace(
                row,
                before=Observation(median(b), tuple(b)).value,
                after=Observation(median(a), tuple(a)).value,
                ratio=judgement.ratio,
                p_value=judgement.p_value,
                threshold=judgement.threshold,
                verdict=judgement.verdict,
                noise_source=noise.source,
            )
        )
    return out
