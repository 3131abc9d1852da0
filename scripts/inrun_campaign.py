"""Issue 17's acceptance campaign: `veracity continuous` judged with in-run noise, per stage, A/A and planted slowdowns.

Per stage (embedding batch, NLI, vector search query, pipeline claim) and trial, three real
`veracity continuous` pairs, each with its own interleaved rounds (tracking.continuous):

- A/A: the baseline B against its twin A, which changes only a README line;
- +5% and +10%: B against a sibling commit whose stage function does extra pure-Python work,
  calibrated to 5 and 10% of the stage's time in a pilot run of B (scripts/detection_campaign.py's
  plants, checked by timing the work alone).

No noise file is read (a machine with no entry in noise.json): every verdict rests on the run's own
rounds. Everything runs in a throw-away clone (default /tmp/veracity-inrun-campaign), so the
repository's results, html/ and branches are never touched. The clone's asv environment is
`--env-dir`; by default this repository's (nothing reinstalled but the wheel), which another asv
run on this checkout must not use at the same time: copy it (`cp -a .asv/env /tmp/env`) and pass
the copy to run beside other work.

    python scripts/inrun_campaign.py --trials 6 --stages nli,embedding

`--together` judges the stages side by side: one A/A pair a trial for all of them, and one pair per
plant size whose commit plants embedding, NLI and vector search at once (each +5 or +10% of its
own stage; no stage's benchmark runs through another's planted code); the pipeline, which runs
through all three, keeps plant commits of its own. 5 pairs a trial instead of 12.

Prints one line per pair as it goes and the table at the end (also WORK/inrun_campaign.md and .json).
Cost: each pair is `--rounds` asv runs of two commits (more for grey results); on a 2-vCPU machine
a round of one stage's benchmark takes 1-3 minutes, most of it asv reinstalling the project.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detection_campaign import (
    PLANT_CHECK_CALLS,
    STAGES,
    Stage,
    _timed,
    commit_plant,
    git,
    make_clone,
    plant_work,
    result_values,
    run_commits,
)

from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import RunOptions
from veracity.tracking.commands import Judging, TrackingFiles, continuous_report
from veracity.tracking.machine import current

SIZES = (5, 10)
PAIRS = ("aa", "+5", "+10")


def readme_twin(repo: Path, base: str) -> str:
    """A/A: a commit after `base` that changes only a README line."""
    git(repo, "checkout", "--quiet", "-B", "main", base)
    readme = repo / "README.md"
    readme.write_text(readme.read_text() + "\nA README line that changes nothing measured.\n")
    git(repo, "commit", "--quiet", "-am", "A: the baseline with one more README line")
    return git(repo, "rev-parse", "HEAD")


def continuous_pair(
    config: AsvConfig, machine: str, base: str, head: str, stages: list[Stage], args, work: Path
) -> dict[str, dict]:
    """One real `veracity continuous BASE HEAD -b STAGE...` with no noise file; each stage's row of its
    JSON report, by stage name (the stages share the pair's rounds and its cost)."""
    judging = Judging(
        machine=machine,
        files=TrackingFiles(noise=work / "no-noise.json"),  # absent: no band for any machine
        rerun=args.rerun,
        quiet_asv=True,
        fmt="json",
    )
    run = RunOptions(bench=tuple(s.bench_regex for s in stages), machine=machine)
    started = time.time()
    report = continuous_report(config, base, head, judging, run, rounds=args.rounds)
    rows = {r["key"]: r for r in json.loads(report.text)["rows"]}
    seconds = round(time.time() - started, 1)
    out = {}
    for stage in stages:
        row = rows[stage.key]
        in_run = row.get("in_run") or {}
        out[stage.name] = {
            "flagged": row["verdict"] in ("worse", "failed"),
            "verdict": row["verdict"],
            "ratio": row["ratio"],
            "rounds": in_run.get("rounds"),
            "half_width": in_run.get("half_width"),
            "noise_source": row["noise_source"],
            "seconds": seconds,
        }
    return out


def pairs_of_trial(stages: list[Stage], twin: str, plan: dict, together: bool) -> list[tuple[str, str, list[Stage]]]:
    """(pair, head, stages judged on it) for one trial: per stage, or, `together`, one A/A pair for
    every stage and one pair per plant commit (the stages planted in that commit)."""
    if not together:
        return [
            (pair, twin if pair == "aa" else plan[s.name]["plants"][pair]["commit"], [s])
            for s in stages
            for pair in PAIRS
        ]
    jobs: list[tuple[str, str, list[Stage]]] = [("aa", twin, list(stages))]
    for pair in PAIRS[1:]:
        by_head: dict[str, list[Stage]] = {}
        for s in stages:
            by_head.setdefault(plan[s.name]["plants"][pair]["commit"], []).append(s)
        jobs += [(pair, head, group) for head, group in by_head.items()]
    return jobs


def median_seconds_per_iteration(iterations: int = 200_000, calls: int = 15) -> float:
    """The plant's time per iteration as asv reports a time: a median, not detection_campaign's best of 7.

    On a busy machine the best of a few calls catches a quiet moment: plants sized by it to 10% of
    the baseline's median (embedding encode of 32 texts, this VM under a load of 8) were 25-32% when
    timed alone by their median.
    """
    return statistics.median(_timed(lambda: plant_work(iterations)) for _ in range(calls)) / iterations


def plan_plants(
    repo: Path, config: AsvConfig, machine: str, base: str, stages: list[Stage], together: bool = False
) -> dict:
    """Pilot run of the baseline, then a +5% and a +10% plant commit per stage, sized to its time;
    `together`: one commit per size planting every stage but the pipeline (whose claim runs through
    the others' code, so it keeps commits of its own)."""
    print("pilot run of the baseline...", flush=True)
    run_commits(repo, [base], [s.bench_regex for s in stages], machine)
    pilot = result_values(config, machine, base)
    per_iteration = median_seconds_per_iteration()
    plan: dict = {}
    for stage in stages:
        baseline_s = pilot[stage.key].value
        plan[stage.name] = {"baseline_s": baseline_s, "plants": {}}
        for pct in SIZES:
            iterations = max(1, round(baseline_s * pct / 100 / per_iteration))
            alone = statistics.median(_timed(lambda it=iterations: plant_work(it)) for _ in range(PLANT_CHECK_CALLS))
            sha = commit_plant(repo, base, f"plant-{stage.name}-{pct}", [(stage, pct, iterations)], f"plant +{pct}%")
            plan[stage.name]["plants"][f"+{pct}"] = {
                "commit": sha,
                "iterations": iterations,
                "alone_share": round(alone / baseline_s, 4),
            }
        shares = ", ".join(f"{k} -> {v['alone_share'] * 100:.1f}%" for k, v in plan[stage.name]["plants"].items())
        print(f"{stage.name}: baseline {baseline_s * 1000:.1f} ms; plants alone {shares}", flush=True)
    shared = [s for s in stages if s.name != "pipeline"]
    if together and len(shared) > 1:
        for pct in SIZES:
            plants = [(s, pct, plan[s.name]["plants"][f"+{pct}"]["iterations"]) for s in shared]
            sha = commit_plant(repo, base, f"plant-together-{pct}", plants, f"plant +{pct}% in each stage")
            for s in shared:
                plan[s.name]["plants"][f"+{pct}"]["commit"] = sha
    return plan


def table(report: dict) -> str:
    lines = [
        f"Machine `{report['machine']}`: {report['cpu']}; {report['rounds']} rounds a pair, up to "
        f"{report['rerun']} re-runs of as many rounds; no noise file.",
        "",
        "| stage | baseline | plant alone (+5/+10%) | A/A flagged | +5% flagged | +10% flagged "
        "| in-run ±95% (median, A/A) | rounds (median) | minutes a pair |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, stage in report["stages"].items():
        trials = stage["trials"]
        n = len(trials)
        if not n:
            continue
        flagged = {p: sum(t[p]["flagged"] for t in trials) for p in PAIRS}
        widths = [t["aa"]["half_width"] for t in trials if t["aa"]["half_width"] is not None]
        rounds = [t[p]["rounds"] for t in trials for p in PAIRS if t[p]["rounds"]]
        minutes = statistics.median(t[p]["seconds"] for t in trials for p in PAIRS) / 60
        alone = "/".join(f"{v['alone_share'] * 100:.1f}%" for v in stage["plants"].values())
        lines.append(
            f"| {name} | {stage['baseline_s'] * 1000:.1f} ms | {alone} | {flagged['aa']}/{n} | {flagged['+5']}/{n} "
            f"| {flagged['+10']}/{n} | {f'±{statistics.median(widths) * 100:.1f}%' if widths else 'n/a'} "
            f"| {statistics.median(rounds) if rounds else 'n/a'} | {minutes:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--stages", default=",".join(s.name for s in STAGES))
    parser.add_argument(
        "--rounds", type=int, default=6, help="interleaved rounds a pair (veracity continuous --rounds)"
    )
    parser.add_argument("--rerun", type=int, default=2, help="re-runs of grey results (veracity continuous --rerun)")
    parser.add_argument("--work", default="/tmp/veracity-inrun-campaign")
    parser.add_argument("--env-dir", help="asv environment folder for the clone (default: this repository's)")
    parser.add_argument(
        "--together",
        action="store_true",
        help="one pair per trial for every stage's A/A and one per plant size for the stages planted together "
        "(the pipeline apart): 5 pairs a trial instead of 12",
    )
    args = parser.parse_args(argv)

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    (work / "results").mkdir(exist_ok=True)
    stages = [s for s in STAGES if s.name in args.stages.split(",")]
    if not stages:
        parser.error(f"--stages names none of {', '.join(s.name for s in STAGES)}")
    repo = make_clone(work)
    if args.env_dir:
        conf_path = repo / "asv.campaign.json"
        conf = json.loads(conf_path.read_text())
        conf["env_dir"] = str(Path(args.env_dir).resolve())
        conf_path.write_text(json.dumps(conf, indent=2))
    config = AsvConfig.load(repo / "asv.campaign.json")
    fingerprint = current()
    machine = fingerprint.machine_name
    print(f"machine {machine}: {fingerprint.cpu_description()}", flush=True)
    from veracity.tracking.asvrun import register_machine

    register_machine(config, fingerprint, quiet=True)
    base = git(repo, "rev-parse", "HEAD")
    twin = readme_twin(repo, base)
    plan = plan_plants(repo, config, machine, base, stages, together=args.together)
    report: dict = {
        "machine": machine,
        "cpu": fingerprint.cpu_description(),
        "rounds": args.rounds,
        "rerun": args.rerun,
        "stages": {s.name: {"key": s.key, **plan[s.name], "trials": []} for s in stages},
    }
    started = time.time()
    for trial in range(1, args.trials + 1):
        rows: dict[str, dict] = {s.name: {"trial": trial} for s in stages}
        for pair, head, group in pairs_of_trial(stages, twin, plan, args.together):
            judged = continuous_pair(config, machine, base, head, group, args, work)
            for name, row in judged.items():
                rows[name][pair] = row
                print(f"[{(time.time() - started) / 60:6.1f} min] trial {trial} {name} {pair}: " + json.dumps(row))
            sys.stdout.flush()
        for name, row in rows.items():
            report["stages"][name]["trials"].append(row)
        (work / "inrun_campaign.json").write_text(json.dumps(report, indent=2))
    text = table(report)
    (work / "inrun_campaign.md").write_text(text + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
