"""Plain `asv compare`, `asv continuous` and `asv find` judged the way veracity judges.

asv judges every benchmark lower-is-better: a throughput or recall drop is marked `-` (better),
`asv continuous` closes "PERFORMANCE INCREASED." with exit 0 on it, and `asv find` hunts for a
rise. asv imports the modules named in asv.conf.json's `"plugins"` (calling their `setup()`)
before a command does its work, so the plugin (tracking.asv_plugin) installs the hooks here, and
the commands people already type give veracity's verdicts:

- `Compare.print_table` (asv compare and asv continuous both judge through it): for one table it
  reads each benchmark's unit from benchmarks.json and the noise band veracity knows for the
  machine; `unroll_result`, which it calls per benchmark, tags each row's value with that rule;
  `_is_result_better`, which it calls per row, flips the comparison for a higher-is-better value,
  never calls a yardstick or a descriptive figure better or worse, and uses the band as the factor
  where one is known (`--factor` given explicitly wins). Marks, `--split` groups, the closing line
  and continuous's exit code follow from those verdicts, as asv derives them.
- `Find.run`: a higher-is-better benchmark is searched for its fall, as `--invert` would, and the
  result is named a regression.

The hooks are for the pinned asv (PINNED_ASV, as constraints.txt pins it). `install` checks the
version and every hook target (present, with the signature the hook expects) first; on any
mismatch it installs nothing and logs one warning line, so plain asv keeps its own verdicts and
never half of ours.
"""

from veracity.tracking.asv_commands.compare import (
    Band,
    RowRule,
    _hook_is_result_better,
    _Judged,
    _Table,
    factor_given,
    noise_band,
)
from veracity.tracking.asv_commands.install import EXPECTED_SIGNATURES, PINNED_ASV, hook_problem, install, installed

__all__ = [
    "EXPECTED_SIGNATURES",
    "PINNED_ASV",
    "Band",
    "RowRule",
    "_Judged",
    "_Table",
    "_hook_is_result_better",
    "factor_given",
    "hook_problem",
    "install",
    "installed",
    "noise_band",
]
