"""Bisect trials on the real suite: `veracity bisect` against `asv find`, side by side.

For each stage and trial, in a throw-away clone (scripts/detection_campaign.py's `make_clone`: the
repository's own results, html/ and branches are never touched, and its asv environments are
reused), a history of COMMITS commits is built on the baseline: every commit changes only a README
line except one, at a position that moves from trial to trial, which adds +PCT% of the stage's
time as extra work to the stage's function (the detection campaign's plant, calibrated on a pilot
run). Then `veracity bisect BASE TOP -b STAGE` and `asv find BASE..TOP STAGE` run on it, one after
the other, and the table says which commit each named, whether it was the plant, and what it cost.

    python scripts/bisect_campaign.py --stages embedding --trials 6 --pct 5

`--measure work` bisects the stage's work count instead (`work.WorkCounts.track_<stage>_instructions`,
callgrind instructions, which repeat run to run): the plant is then sized at PCT% of the stage's
count in the baseline (a counted pure-Python loop, scripts/work_campaign.py's unit of work), put
where the count's body calls it (the pipeline's in `Verifier.verify_many`), and each probe measures
a commit once. A count run costs about 3.5 CPU-minutes a commit on 2 vCPU.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from detection_campaign import (
    PLANT_TEMPLATE,
    REPO,
    STAGES,
    Stage,
    asv,
    git,
    make_clone,
    result_values,
    run_commits,
    seconds_per_iteration,
)

from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.machine import current
from veracity.tracking.work_vs_time import work_keys

POSITIONS = (4, 2, 6, 3, 7, 5)  # where the plant lands in each trial (1 = first commit after the base)

# --measure work: the call the count's body makes per stage (benchmarks/work_child.py), and how often.
WORK_TARGETS = {
    "embedding": ("Embedder.encode", 1),
    "nli": ("NliModel.predict", 1),
    "vector_search": ("PgVectorStore.search", 50),
    "pipeline": ("Verifier.verify_many", 1),
}
WORK_PLANT_WORK = """def _campaign_plant_work(iterations: int = {iterations}) -> int:
    return {loop}
"""


def work_stage(stage: Stage) -> Stage:
    """The stage with its plant where the work count's body calls it, its key the stage's count."""
    target, _ = WORK_TARGETS[stage.name]
    return Stage(stage.name, work_keys(stage.name)[0], stage.module, target)


def work_plant_template() -> str:
    """PLANT_TEMPLATE with scripts/work_campaign.py's loop, whose instructions per iteration are counted."""
    from work_campaign import WORK_LOOP

    start = PLANT_TEMPLATE.index("def _campaign_plant_work")
    end = PLANT_TEMPLATE.index("_campaign_original")
    loop = WORK_LOOP.format(n="iterations")
    return PLANT_TEMPLATE[:start] + WORK_PLANT_WORK.replace("{loop}", loop) + "\n\n" + PLANT_TEMPLATE[end:]


def build_history(
    repo: Path,
    base: str,
    stage: Stage,
    plant: tuple[int, int],
    commits: int,
    trial: int,
    at: int,
    template: str = PLANT_TEMPLATE,
) -> list[str]:
    iterations, pct = plant
    git(repo, "checkout", "--quiet", "-B", f"bisect-{stage.name}-{trial}", base)
    made = []
    for i in range(1, commits + 1):
        if i == at:
            cls, method = stage.target.split(".")
            path = repo / stage.module
            code = template.format(pct=pct, key=stage.key, iterations=iterations, cls=cls, method=method)
            path.write_text(path.read_text() + code)
            message = f"plant +{pct}% in {stage.name} (trial {trial})"
        else:
            with (repo / "README.md").open("a") as readme:
                readme.write(f"\n<!-- bisect campaign: trial {trial}, docs change {i} -->\n")
            message = f"docs change {i} (trial {trial})"
        git(repo, "commit", "--quiet", "-am", message)
        made.append(git(repo, "rev-parse", "HEAD"))
    return made


def veracity_bisect(repo: Path, work: Path, machine: str, base: str, top: str, regex: str) -> tuple[dict, float]:
    out = work / "bisect.json"
    started = time.monotonic()
    cmd = [
        str(REPO / ".venv" / "bin" / "veracity"),
        "bisect",
        base,
        top,
        "-b",
        regex,
        "--json",
        "--output",
        str(out),
        "--config",
        str(repo / "asv.campaign.json"),
        "--machine",
        machine,
    ]
    done = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if not out.exists():
        return {"error": (done.stderr or done.stdout)[-500:], "exit_code": done.returncode}, seconds
    return json.loads(out.read_text()), seconds


def asv_find(repo: Path, machine: str, base: str, top: str, regex: str) -> tuple[str | None, float]:
    started = time.monotonic()
    out = asv(repo, "find", f"{base}..{top}", regex, "--machine", machine, check=False)
    seconds = time.monotonic() - started
    found = re.search(r"Greatest regression found: ([0-9a-f]{8})", out)
    return (found.group(1) if found else None), seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument(
        "--first-trial", type=int, default=1, help="number of the first trial (its plant position), to go on from a run"
    )
    parser.add_argument("--pct", type=int, default=5, help="the plant, as a percentage of the stage's time")
    parser.add_argument("--commits", type=int, default=7, help="commits in each history (default 7)")
    parser.add_argument("--stages", default=",".join(s.name for s in STAGES))
    parser.add_argument("--work", default="/tmp/veracity-bisect-campaign")
    parser.add_argument("--no-asv-find", action="store_true", help="skip the side-by-side `asv find`")
    parser.add_argument(
        "--measure", choices=("time", "work"), default="time", help="bisect the stage's time or its work count"
    )
    args = parser.parse_args(argv)

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    (work / "results").mkdir(exist_ok=True)
    fingerprint = current()
    machine = fingerprint.machine_name
    repo = make_clone(work)
    asv(repo, "machine", "--yes", "--machine", machine)
    config = AsvConfig.load(repo / "asv.campaign.json")
    base = git(repo, "rev-parse", "HEAD")
    stages = [s for s in STAGES if s.name in args.stages.split(",")]
    template = PLANT_TEMPLATE
    if args.measure == "work":
        from work_campaign import loop_instructions

        stages = [work_stage(s) for s in stages]
        template = work_plant_template()
    print(f"machine {machine}: {fingerprint.cpu_description()}", flush=True)
    print("pilot run of the baseline...", flush=True)
    run_commits(repo, [base], [s.bench_regex for s in stages], machine)
    pilot = result_values(config, machine, base)
    per_iter = loop_instructions() if args.measure == "work" else seconds_per_iteration()
    rows = []
    plant_iterations = {}
    for stage in stages:
        calls = WORK_TARGETS[stage.name][1] if args.measure == "work" else 1
        plant_iterations[stage.name] = max(1, round(pilot[stage.key].value * args.pct / 100 / per_iter / calls))
        print(
            f"{stage.name}: plant of {plant_iterations[stage.name]} iterations in {stage.target} (+{args.pct}%)",
            flush=True,
        )
    # Trial by trial across the stages, so that a campaign cut short has covered every stage alike.
    for trial in range(args.first_trial, args.first_trial + args.trials):
        for stage in stages:
            iterations = plant_iterations[stage.name]
            at = POSITIONS[(trial - 1) % len(POSITIONS)]
            at = min(at, args.commits)
            plant = (iterations, args.pct)
            history = build_history(repo, base, stage, plant, args.commits, trial, at, template)
            planted = history[at - 1]
            report, v_seconds = veracity_bisect(repo, work, machine, base, history[-1], stage.bench_regex)
            first_bad = (report.get("first_bad") or {}).get("commit")
            row = {
                "stage": stage.name,
                "trial": trial,
                "plant_at": at,
                "veracity": (first_bad or "none")[:8],
                "veracity_ok": first_bad == planted,
                "probes": len(report.get("probes", [])),
                "veracity_s": round(v_seconds),
                "exit_code": report.get("exit_code"),
            }
            if not args.no_asv_find:
                found, f_seconds = asv_find(repo, machine, base, history[-1], stage.bench_regex)
                row.update(asv_find=found or "none", asv_find_ok=found == planted[:8], asv_find_s=round(f_seconds))
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print("| stage | trial | plant at | veracity bisect | ok | probes | s | asv find | ok | s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ok = "yes" if r["veracity_ok"] else "NO"
        find_ok = "-" if "asv_find" not in r else ("yes" if r["asv_find_ok"] else "NO")
        print(
            f"| {r['stage']} | {r['trial']} | {r['plant_at']} | {r['veracity']} | {ok} | {r['probes']} "
            f"| {r['veracity_s']} | {r.get('asv_find', '-')} | {find_ok} | {r.get('asv_find_s', '-')} |"
        )
    for stage in stages:
        mine = [r for r in rows if r["stage"] == stage.name]
        print(
            f"{stage.name}: veracity bisect {sum(r['veracity_ok'] for r in mine)}/{len(mine)}"
            + ("" if args.no_asv_find else f", asv find {sum(r['asv_find_ok'] for r in mine)}/{len(mine)}")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
