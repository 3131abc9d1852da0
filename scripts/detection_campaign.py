"""Detection trials on the real suite: planted slowdowns of +5/+10/+20% per stage, A/A pairs, ours vs plain asv.

Everything runs in a throw-away clone (default /tmp/veracity-campaign), so the repository's own
results, html/ and branches are never touched; the clone reuses this repository's asv
environment (`env_dir`), so no dependency is reinstalled. Per stage:

1. a pilot `asv run` of the baseline B measures the stage's benchmark, and a plant of extra CPU
   work (a pure-Python loop, the same on every call) is calibrated to 5, 10 and 20% of that time
   and checked by timing it alone;
2. sibling commits of B add that work to the stage's function (P5, P10, P20), and an empty commit
   A is B's twin (identical code);
3. each trial is one `asv run` of [B, A, P5, P10, P20] with the stage's benchmark (rounds
   interleaved across commits in alternating order, `--interleave-rounds`, as `veracity
   continuous` and `asv continuous` measure; plain `asv run` does not interleave), judged by
   `veracity`'s detection with the calibrated noise file and by plain `asv compare` (factor 1.1,
   its default), pair by pair.

Finally one chain B -> A -> P(all stages +10%) is published with `asv publish` and the script checks
that html/regressions.json lists each stage's benchmark at the plant and nothing at A.

    python scripts/detection_campaign.py --trials 6 --noise benchmarks/noise.json
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.detect import Verdict
from veracity.tracking.machine import current
from veracity.tracking.noise import NoiseFile
from veracity.tracking.results import ResultsStore
from veracity.tracking.workflow import compare_commits

REPO = Path(__file__).resolve().parent.parent
SIZES = (5, 10, 20)
PLANT_CHECK_CALLS = 30


@dataclass(frozen=True)
class Stage:
    name: str
    key: str  # asv result key of the stage's main timing
    module: str  # file in the clone whose class method gets the plant
    target: str  # "Class.method"

    @property
    def bench_regex(self) -> str:
        return "^" + re.escape(self.key) + "$"


STAGES = (
    Stage(
        "embedding",
        "embedding.EncodeBatch.time_encode_batch(32)",
        "src/veracity/pipeline/embedding.py",
        "Embedder.encode",
    ),
    Stage("nli", "nli.NliBatching.time_predict('sorted')", "src/veracity/pipeline/nli.py", "NliModel.predict"),
    Stage(
        "vector_search",
        "vector_search.HnswSearch.time_query(10000, 16, 40)",
        "src/veracity/pipeline/pgvector_store.py",
        "PgVectorStore.search",
    ),
    Stage("pipeline", "pipeline.VerifyClaims.time_verify_claim", "src/veracity/pipeline/verify.py", "Verifier.verify"),
)

PLANT_TEMPLATE = """

# --- detection campaign plant: +{pct}% of {key} ---------------------------------------------
def _campaign_plant_work(iterations: int = {iterations}) -> int:
    total = 0
    for i in range(iterations):
        total += i * i
    return total


_campaign_original = {cls}.{method}


def _campaign_planted(self, *args, **kwargs):
    _campaign_plant_work()
    return _campaign_original(self, *args, **kwargs)


{cls}.{method} = _campaign_planted
"""


def plant_work(iterations: int) -> int:
    total = 0
    for i in range(iterations):
        total += i * i
    return total


def seconds_per_iteration() -> float:
    best = float("inf")
    for _ in range(7):
        start = time.perf_counter()
        plant_work(1_000_000)
        best = min(best, time.perf_counter() - start)
    return best / 1_000_000


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


def asv(repo: Path, *args: str, check: bool = True) -> str:
    cmd = [str(REPO / ".venv" / "bin" / "asv"), *args, "--config", str(repo / "asv.campaign.json")]
    proc = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
    if check and proc.returncode not in (0, 2):
        raise SystemExit(
            f"asv {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc.stdout


def make_clone(work: Path) -> Path:
    repo = work / "repo"
    if repo.exists():
        shutil.rmtree(repo)
    subprocess.run(["git", "clone", "--quiet", "--no-local", str(REPO), str(repo)], check=True)
    git(repo, "config", "user.email", "campaign@veracity.invalid")
    git(repo, "config", "user.name", "detection campaign")
    text = re.sub(r"^\s*//.*$", "", (REPO / "asv.conf.json").read_text(), flags=re.MULTILINE)
    conf = json.loads(text)
    conf["env_dir"] = str(REPO / ".asv" / "env")  # the repository's env: nothing reinstalled but the wheel
    conf["results_dir"] = str(work / "results")
    conf["html_dir"] = str(work / "html")
    conf["install_command"] = [c for c in conf["install_command"] if "models build" not in c]  # model is cached
    (repo / "asv.campaign.json").write_text(json.dumps(conf, indent=2))
    return repo


def commit_plant(repo: Path, base: str, branch: str, plants: list[tuple[Stage, int, int]], message: str) -> str:
    git(repo, "checkout", "--quiet", "-B", branch, base)
    for stage, pct, iterations in plants:
        cls, method = stage.target.split(".")
        path = repo / stage.module
        code = PLANT_TEMPLATE.format(pct=pct, key=stage.key, iterations=iterations, cls=cls, method=method)
        path.write_text(path.read_text() + code)
    git(repo, "commit", "--quiet", "-am", message)
    return git(repo, "rev-parse", "HEAD")


def run_commits(repo: Path, commits: list[str], stage_regexes: list[str], machine: str) -> None:
    hashfile = repo.parent / "hashes.txt"
    hashfile.write_text("\n".join(commits) + "\n")
    args = ["run", f"HASHFILE:{hashfile}", "--record-samples", "--interleave-rounds", "--machine", machine]
    args.append("--show-stderr")
    for regex in stage_regexes:
        args += ["--bench", regex]
    asv(repo, *args)


def result_values(config: AsvConfig, machine: str, commit: str) -> dict:
    store = ResultsStore(config.results_dir)
    return {r.key: r for r in store.results_for(machine, commit)}


def ours(
    config: AsvConfig,
    machine: str,
    noise: NoiseFile | None,
    before: str,
    after: str,
    key: str,
    *,
    paired: bool,
    rerun: int = 0,
) -> tuple[bool, int, float]:
    """veracity's verdict on `key`, as `veracity compare` (`paired`: `continuous`) gives it with `rerun`
    re-runs of grey results: (flagged worse, re-runs done, ratio)."""
    outcome = compare_commits(
        config,
        before,
        after,
        machine=machine,
        noise=noise,
        rerun=rerun,
        paired=paired,
        quiet_asv=True,
        log=lambda message: print(message, flush=True),
    )
    row = next(r for r in outcome.rows if r.key == key)
    return row.verdict is Verdict.WORSE, outcome.reruns, row.ratio or float("nan")


def plain_asv(repo: Path, machine: str, before: str, after: str, key: str, factor: float) -> bool:
    """Whether `asv compare` marks `key` as a regression ("+" in its Change column)."""
    out = asv(repo, "compare", before, after, "--machine", machine, "--factor", str(factor), check=False)
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 5 and cells[-1] == key:
            return cells[0] == "+"
    raise SystemExit(f"`asv compare` printed no row for {key}:\n{out[-2000:]}")


def snapshot(config: AsvConfig, work: Path, trial: int, stage: str) -> Path:
    """Keep this trial's result files: the next trial of the stage overwrites them."""
    target = work / "trials" / f"{trial}-{stage}"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(config.results_dir, target)
    return target


def restore(config: AsvConfig, saved: Path) -> None:
    shutil.rmtree(config.results_dir)
    shutil.copytree(saved, config.results_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--work", default="/tmp/veracity-campaign")
    parser.add_argument("--noise", help="calibrated noise file (default: calibrate first, into WORK/noise.json)")
    parser.add_argument("--calibrate-runs", type=int, default=5, help="A/A runs of `veracity calibrate` (default 5)")
    parser.add_argument(
        "--rerun", type=int, default=2, help="re-runs of grey results before a verdict, as `veracity continuous` (2)"
    )
    parser.add_argument("--stages", default=",".join(s.name for s in STAGES))
    parser.add_argument("--no-publish-check", action="store_true")
    args = parser.parse_args(argv)

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    (work / "results").mkdir(exist_ok=True)
    stages = [s for s in STAGES if s.name in args.stages.split(",")]
    fingerprint = current()
    machine = fingerprint.machine_name
    repo = make_clone(work)
    # asv's machine record, answered non-interactively (the same name `make bench` uses).
    subprocess.run(
        [str(REPO / ".venv" / "bin" / "asv"), "machine", "--yes", "--machine", machine],
        cwd=repo,
        check=True,
        capture_output=True,
    )
    config = AsvConfig.load(repo / "asv.campaign.json")
    report: dict = {"machine": machine, "cpu": fingerprint.cpu_description(), "stages": {}}
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "--quiet", "-B", "main", base)
    git(repo, "commit", "--quiet", "--allow-empty", "-m", "A: twin of the baseline (identical code)")
    twin = git(repo, "rev-parse", "HEAD")

    print(f"machine {machine}: {fingerprint.cpu_description()}", flush=True)
    noise_path = Path(args.noise) if args.noise else work / "noise.json"
    if not args.noise:
        from veracity.tracking.workflow import calibrate

        print(f"calibrating: {args.calibrate_runs} A/A runs of the baseline (`veracity calibrate`)...", flush=True)
        calibrate(
            config,
            commit=base,
            runs=args.calibrate_runs,
            bench=[s.bench_regex for s in stages],
            machine=machine,
            noise_path=noise_path,
            quiet_asv=True,
        )
    noise = NoiseFile.load(noise_path)
    report["noise"] = {
        s.name: {"across_runs": getattr(b, "band", None), "paired": getattr(b, "paired", None)}
        for s in stages
        for b in [noise.band(machine, s.key)]
    }
    print(f"noise bands: {report['noise']}", flush=True)
    print("pilot run of the baseline...", flush=True)
    run_commits(repo, [base], [s.bench_regex for s in stages], machine)
    pilot = result_values(config, machine, base)
    per_iter = seconds_per_iteration()
    plan: dict[str, dict[int, tuple[str, int, float]]] = {}
    for stage in stages:
        baseline_s = pilot[stage.key].value
        plan[stage.name] = {}
        for pct in SIZES:
            iterations = max(1, round(baseline_s * pct / 100 / per_iter))
            alone = statistics.median(_timed(lambda it=iterations: plant_work(it)) for _ in range(PLANT_CHECK_CALLS))
            sha = commit_plant(repo, base, f"plant-{stage.name}-{pct}", [(stage, pct, iterations)], f"plant +{pct}%")
            plan[stage.name][pct] = (sha, iterations, alone / baseline_s)
        report["stages"][stage.name] = {
            "key": stage.key,
            "baseline_s": baseline_s,
            "plant_alone_share": {pct: round(plan[stage.name][pct][2], 4) for pct in SIZES},
            "trials": [],
        }
        print(
            f"{stage.name}: baseline {baseline_s * 1000:.1f} ms; plants alone "
            + ", ".join(f"+{pct}% -> {plan[stage.name][pct][2] * 100:.1f}%" for pct in SIZES),
            flush=True,
        )

    for trial in range(1, args.trials + 1):
        for stage in stages:
            commits = [base, twin] + [plan[stage.name][pct][0] for pct in SIZES]
            started = time.time()
            run_commits(repo, commits, [stage.bench_regex], machine)
            row: dict = {"trial": trial, "seconds": round(time.time() - started, 1)}
            measured = snapshot(config, work, trial, stage.name)
            for label, after in [("aa", twin)] + [(f"+{pct}", plan[stage.name][pct][0]) for pct in SIZES]:
                first_pass, _, ratio = ours(config, machine, noise, base, after, stage.key, paired=True)
                across, _, _ = ours(config, machine, noise, base, after, stage.key, paired=False)
                cell = {
                    "ratio": round(ratio, 4),
                    "ours_first_pass": first_pass,
                    "ours_across_runs_band": across,
                    "asv_1.10": plain_asv(repo, machine, base, after, stage.key, 1.1),
                    "asv_1.05": plain_asv(repo, machine, base, after, stage.key, 1.05),
                }
                cell["ours"], cell["reruns"], after_reruns = ours(
                    config, machine, noise, base, after, stage.key, paired=True, rerun=args.rerun
                )
                cell["ratio_after_reruns"] = round(after_reruns, 4)
                restore(config, measured)  # each pair starts from the trial's own run, not another pair's re-runs
                row[label] = cell
            report["stages"][stage.name]["trials"].append(row)
            print(
                f"trial {trial} {stage.name}: " + json.dumps({k: v for k, v in row.items() if k != "trial"}), flush=True
            )
            (work / "campaign.json").write_text(json.dumps(report, indent=2))

    if not args.no_publish_check:
        report["publish"] = publish_check(repo, config, machine, base, twin, stages, plan)
    (work / "campaign.json").write_text(json.dumps(report, indent=2))
    print(markdown(report))
    (work / "campaign.md").write_text(markdown(report))
    return 0


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def publish_check(repo: Path, config: AsvConfig, machine: str, base: str, twin: str, stages, plan) -> dict:
    """Chain B -> A -> P(all stages +10%) on main, measured once, published: what does the site list?"""
    plants = [(s, 10, plan[s.name][10][1]) for s in stages]
    all10 = commit_plant(repo, twin, "main", plants, "plant +10% in every stage")
    run_commits(repo, [all10], [s.bench_regex for s in stages], machine)
    asv(repo, "publish")
    html = Path(config.html_dir)
    listed = json.loads((html / "regressions.json").read_text())
    rows = listed.get("regressions", listed) if isinstance(listed, dict) else listed
    # Each row: name, graph, params, ..., and at [6] the steps as [good revision, bad revision, before, after].
    hashes = json.loads((html / "index.json").read_text()).get("revision_to_hash", {})
    flagged_at = {row[0]: {hashes.get(str(step[1]), "") for step in (row[6] or [])} for row in rows if len(row) > 6}
    found = {s.name: all10 in flagged_at.get(s.key, set()) for s in stages}
    wrong = any(twin in commits for commits in flagged_at.values())
    print(f"published regressions page: plants listed {found}; twin listed: {wrong}", flush=True)
    return {"listed": found, "twin_listed": wrong, "plant_commit": all10}


def markdown(report: dict) -> str:
    lines = [
        f"Machine `{report['machine']}`: {report['cpu']}",
        "",
        "| stage | baseline | plant alone (5/10/20%) | A/A false flags: ours / asv 1.10 / asv 1.05 "
        "| +5% detected | +10% detected | +20% detected |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, stage in report["stages"].items():
        trials = stage["trials"]
        n = len(trials)
        counts = {
            (label, who): sum(1 for t in trials if t[label][who])
            for label in ("aa", "+5", "+10", "+20")
            for who in ("ours", "ours_first_pass", "ours_across_runs_band", "asv_1.10", "asv_1.05")
        }
        cells = {
            label: f"ours {counts[label, 'ours']}/{n} (first pass {counts[label, 'ours_first_pass']}/{n}, "
            f"across-runs band {counts[label, 'ours_across_runs_band']}/{n}), "
            f"asv {counts[label, 'asv_1.10']}/{n} ({counts[label, 'asv_1.05']}/{n} at 1.05)"
            for label in ("+5", "+10", "+20")
        }
        alone = "/".join(f"{v * 100:.1f}%" for v in stage["plant_alone_share"].values())
        lines.append(
            f"| {name} | {stage['baseline_s'] * 1000:.1f} ms | {alone} | "
            f"{counts['aa', 'ours']}/{n} ({counts['aa', 'ours_first_pass']}/{n}, "
            f"{counts['aa', 'ours_across_runs_band']}/{n}) / "
            f"{counts['aa', 'asv_1.10']}/{n} / {counts['aa', 'asv_1.05']}/{n} | "
            f"{cells['+5']} | {cells['+10']} | {cells['+20']} |"
        )
    if "publish" in report:
        lines += ["", f"Published regressions page (chain B -> A -> all +10%): {report['publish']}"]
    lines += ["", f"Calibrated noise bands: {report.get('noise')}"]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
