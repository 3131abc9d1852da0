"""Re-judge a finished detection campaign's saved trials under other detection floors, without re-running.

`scripts/detection_campaign.py` keeps each trial's result files under WORK/trials/; this reads them
back and counts, per stage, A/A false flags and plant detections for each floor given. A floor
chosen this way is tuned on these trials: confirm it with a fresh campaign before changing
`Policy.calibrated_floor` (the floor of a benchmark with a calibrated band, as every campaign stage has).

    python scripts/rejudge_campaign.py --work /tmp/veracity-campaign --floors 0.05 0.03 0.02
"""

from __future__ import annotations

import argparse
import glob
import json
import subprocess
from pathlib import Path

from veracity.tracking.detect import Policy, Verdict, compare_results
from veracity.tracking.machine import current
from veracity.tracking.noise import NoiseFile
from veracity.tracking.results import ResultsStore


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="/tmp/veracity-campaign")
    parser.add_argument("--floors", type=float, nargs="+", default=[0.05, 0.03, 0.02])
    args = parser.parse_args()
    work = Path(args.work)
    report = json.loads((work / "campaign.json").read_text())
    noise = NoiseFile.load(work / "noise.json")
    machine = report.get("machine") or current().machine_name

    def rev(name: str) -> str:
        out = subprocess.run(["git", "-C", str(work / "repo"), "rev-parse", name], capture_output=True, text=True)
        return out.stdout.strip()

    # The campaign's main branch is B -> A (twin) -> all stages +10%.
    base, twin = rev("main~2"), rev("main~1")
    for floor in args.floors:
        print(f"floor {floor:.0%}")
        for name, stage in report["stages"].items():
            pairs = {"A/A": twin, **{f"+{p}%": rev(f"plant-{name}-{p}") for p in (5, 10, 20)}}
            flagged = dict.fromkeys(pairs, 0)
            trials = sorted(glob.glob(str(work / "trials" / f"*-{name}")))
            for trial in trials:
                store = ResultsStore(Path(trial))
                before = [r for r in store.results_for(machine, base) if r.key == stage["key"]]
                for label, commit in pairs.items():
                    after = [r for r in store.results_for(machine, commit) if r.key == stage["key"]]
                    row = compare_results(
                        before,
                        after,
                        benchmarks=store.benchmarks(),
                        noise=noise,
                        machine=machine,
                        paired=True,
                        policy=Policy(min_change=floor, calibrated_floor=floor),
                    )[0]
                    flagged[label] += row.verdict is Verdict.WORSE
            counts = " ".join(f"{label} {count}/{len(trials)}" for label, count in flagged.items())
            print(f"  {name}: {counts}")


if __name__ == "__main__":
    main()
