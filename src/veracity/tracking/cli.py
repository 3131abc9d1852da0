"""`veracity regressions | compare | continuous | calibrate | targets`: the tracker's command line.

`register(subparsers)` adds these to the main `veracity` parser; `python -m veracity.tracking.cli`
runs them alone. Exit codes: 0 nothing wrong, 1 a regression (or a missed target with --check),
2 a usage or input error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from veracity.cli.handler import run_handler
from veracity.errors import VeracityError
from veracity.fsutil import atomic_write_text
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.detect import Comparison, Policy, Verdict
from veracity.tracking.noise import NoiseFile
from veracity.tracking.triage import Triage, load_triage

EXIT_OK, EXIT_WORSE, EXIT_USAGE = 0, 1, 2


def _config(args: argparse.Namespace) -> AsvConfig:
    return AsvConfig.load(Path(args.config))


def _noise(args: argparse.Namespace, config: AsvConfig) -> NoiseFile:
    return NoiseFile.load(Path(args.noise_file) if args.noise_file else config.noise_file)


def _triage(args: argparse.Namespace, config: AsvConfig) -> Triage:
    return load_triage(Path(args.triage_file) if args.triage_file else config.triage_file)


def _policy(args: argparse.Namespace) -> Policy:
    for flag, value in (("--min-change", args.min_change), ("--calibrated-floor", args.calibrated_floor)):
        if not 0 <= value < 10:
            raise VeracityError(f"{flag} {value} is out of range; give a fraction such as 0.05")
    return Policy(min_change=args.min_change, calibrated_floor=args.calibrated_floor)


def _emit(text: str, output: str | None) -> None:
    if output:
        atomic_write_text(Path(output), text if text.endswith("\n") else text + "\n")
    else:
        print(text.rstrip("\n"))


RUN_MACHINE_HELP = "machine to record the runs under (default: this host's, as `veracity bench` names it)"


def _common(
    parser: argparse.ArgumentParser,
    *,
    noise: bool = True,
    triage: bool = True,
    machine_help: str = "machine whose results to use (default: the only one)",
) -> None:
    parser.add_argument("--config", default="asv.conf.json", help="asv config file (default ./asv.conf.json)")
    parser.add_argument("--machine", "-m", help=machine_help)
    if noise:
        parser.add_argument("--noise-file", help="calibrated bands (default <benchmark_dir>/noise.json)")
        parser.add_argument(
            "--min-change",
            type=float,
            default=Policy.min_change,
            help="threshold of a benchmark with no calibrated band (default 0.05)",
        )
        parser.add_argument(
            "--calibrated-floor",
            type=float,
            default=Policy.calibrated_floor,
            help="smallest change flagged where a band was calibrated (default 0.03)",
        )
    if triage:
        parser.add_argument("--triage-file", help="accepted regressions (default <benchmark_dir>/triage.toml)")


def _format_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true", help="print JSON")
    group.add_argument("--markdown", action="store_true", help="print Markdown (for a pull-request comment)")
    parser.add_argument("--output", "-o", help="write the report to this file (atomically) instead of stdout")


def _rerun_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rerun", type=int, default=2, help="re-runs of grey-zone benchmarks before a verdict (default 2)"
    )


# --- handlers ------------------------------------------------------------------------------------


def _cmd_regressions(args: argparse.Namespace) -> int:
    from veracity.tracking.history import open_regressions
    from veracity.tracking.report import regressions_to_json, regressions_to_markdown, regressions_to_text
    from veracity.tracking.results import ResultsStore

    if args.window < 1:
        raise VeracityError("--window must be at least 1")
    config = _config(args)
    if args.branch:
        _known_branch(config, args.branch)
    store = ResultsStore(config.results_dir)
    machine = store.pick_machine(args.machine)
    found = open_regressions(
        store,
        machine,
        repo=config.repo,
        branch=args.branch or config.branches[0],
        noise=_noise(args, config),
        triage=_triage(args, config),
        policy=_policy(args),
        window=args.window,
    )
    render = regressions_to_json if args.json else regressions_to_markdown if args.markdown else regressions_to_text
    _emit(render(found), args.output)
    return EXIT_WORSE if any(r.fails_ci for r in found) else EXIT_OK


def _known_branch(config: AsvConfig, branch: str) -> None:
    """Refuse a branch git does not know: its history would silently fall back to commit dates."""
    from veracity.tracking.gitrepo import rev_parse

    if rev_parse(config.repo, branch) is None:
        raise VeracityError(f"unknown branch {branch!r} in {config.repo}; give a branch, tag or commit git knows")


def _machine_to_run(args: argparse.Namespace, config: AsvConfig) -> str:
    """The asv machine a command that runs benchmarks records under: the one given, or this host's
    fingerprint name, registered as `veracity bench` registers it.

    Left to asv, a run records under the host name whenever ~/.asv-machine.json holds more than
    one machine, so `make calibrate` after `make bench` wrote its bands, and `continuous` its
    results, under another machine than the history they are meant for (and calibrate then
    failed, after its first run, on results for two machines).
    """
    if args.machine:
        return args.machine
    from veracity.bench.run import register_machine
    from veracity.tracking.machine import current

    return register_machine(config.path, current(), quiet=True)


def _check_patterns(patterns: Sequence[str], config: AsvConfig) -> None:
    from veracity.tracking.asvrun import check_bench_patterns

    check_bench_patterns(patterns, config.results_dir / "benchmarks.json", config.benchmark_dir)


def _failing(rows: Sequence[Comparison], triage: Triage, machine: str) -> list[Comparison]:
    return [r for r in rows if r.verdict in (Verdict.WORSE, Verdict.FAILED) and triage.lookup(r.key, machine) is None]


def _print_comparison(args: argparse.Namespace, outcome, triage: Triage) -> int:
    from veracity.tracking.report import comparison_to_json, comparison_to_markdown, comparison_to_text

    accepted = {r.key for r in outcome.rows if triage.lookup(r.key, outcome.machine)}
    if args.json:
        text = comparison_to_json(outcome.rows, outcome.before, outcome.after, drift=outcome.drift)
    elif args.markdown:
        text = comparison_to_markdown(
            outcome.rows, outcome.before, outcome.after, accepted=accepted, drift=outcome.drift
        )
    else:
        text = comparison_to_text(
            outcome.rows,
            outcome.before,
            outcome.after,
            only_changed=args.only_changed,
            accepted=accepted,
            drift=outcome.drift,
        )
    _emit(text, args.output)
    failing = _failing(outcome.rows, triage, outcome.machine)
    if not args.json and not args.markdown and not args.output:
        verdict = "PERFORMANCE DECREASED." if failing else "NO REGRESSION BEYOND NOISE."
        print(verdict)
    return EXIT_WORSE if failing else EXIT_OK


def _compare_and_print(
    args: argparse.Namespace,
    config: AsvConfig,
    base: str,
    head: str,
    *,
    paired: bool = False,
    bench: Sequence[str] = (),
) -> int:
    """The judgement `compare` and `continuous` share: compare two commits' results, print, exit code.

    `bench`: the patterns the run was limited to (continuous); only their results are judged.
    """
    from veracity.tracking.workflow import compare_commits

    outcome = compare_commits(
        config,
        base,
        head,
        machine=args.machine,
        noise=_noise(args, config),
        policy=_policy(args),
        rerun=args.rerun,
        quiet_asv=args.quiet,
        paired=paired,
        bench=bench,
    )
    return _print_comparison(args, outcome, _triage(args, config))


def _cmd_compare(args: argparse.Namespace) -> int:

    if args.rerun < 0:
        raise VeracityError("--rerun must be 0 or more")
    config = _config(args)
    return _compare_and_print(args, config, args.revision1, args.revision2, paired=args.paired)


def _cmd_continuous(args: argparse.Namespace) -> int:
    from veracity.errors import AsvRunError
    from veracity.tracking.asvrun import run_benchmarks
    from veracity.tracking.gitrepo import rev_parse

    if args.rerun < 0:
        raise VeracityError("--rerun must be 0 or more")
    config = _config(args)
    if config.uses_existing_env:
        raise AsvRunError(
            f"{config.path} uses an existing environment, which cannot check out two commits; "
            "use a virtualenv environment or `veracity compare` on results you ran"
        )
    head = rev_parse(config.repo, args.branch)
    if head is None:
        raise VeracityError(f"unknown commit {args.branch!r}; give a branch, tag or hash")
    base_name = args.base or f"{head}^"
    base = rev_parse(config.repo, base_name)
    if base is None:
        raise VeracityError(f"unknown commit {base_name!r}; give a branch, tag or hash")
    if base == head:
        raise VeracityError(f"{base_name!r} and {args.branch!r} are one commit: the range is empty; give two commits")
    _check_patterns(args.bench or (), config)
    extra = []
    if args.launch_method:
        extra += ["--launch-method", args.launch_method]
    if args.show_stderr:
        extra.append("--show-stderr")
    if not args.interleave_rounds:
        extra.append("--no-interleave-rounds")
    args.machine = _machine_to_run(args, config)
    run_benchmarks(config, [head, base], bench=args.bench or (), machine=args.machine, extra=extra, quiet=args.quiet)
    return _compare_and_print(args, config, base, head, paired=True, bench=args.bench or ())


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from veracity.tracking.workflow import calibrate

    config = _config(args)
    _check_patterns(args.bench or (), config)
    result = calibrate(
        config,
        commit=args.commit,
        runs=args.runs,
        bench=args.bench or (),
        machine=_machine_to_run(args, config),
        noise_path=Path(args.noise_file) if args.noise_file else None,
        quiet_asv=args.quiet,
        keep_results=args.keep_results,
        paired=args.paired,
    )
    path = args.noise_file or config.noise_file
    print(f"calibrated {len(result.bands)} benchmark(s) on machine {result.machine} at {result.commit[:8]} -> {path}")
    for band in result.bands:
        paired = f"  paired ±{band.paired * 100:4.1f}% ({band.pairs} pairs)" if band.paired is not None else ""
        print(f"  ±{band.band * 100:5.1f}%  (cv {band.cv * 100:.1f}%, {band.runs} runs){paired}  {band.key}")
    return EXIT_OK


def _cmd_targets(args: argparse.Namespace) -> int:
    import json

    from veracity.tracking.history import ordered_commits
    from veracity.tracking.report import targets_to_markdown, targets_to_text
    from veracity.tracking.results import ResultsStore
    from veracity.tracking.targets import Status, evaluate_target, load_targets

    config = _config(args)
    targets = load_targets(Path(args.targets_file) if args.targets_file else config.targets_file)
    store = ResultsStore(config.results_dir)
    machine = store.pick_machine(args.machine)
    commits = ordered_commits(store, machine, config.repo, config.branches[0])
    latest = commits[-1] if commits else None
    results = store.results_for(machine, latest) if latest else []
    statuses = [evaluate_target(t, results) for t in targets]
    if args.json:
        text = json.dumps(
            {
                "commit": latest,
                "machine": machine,
                "targets": [s.to_json() for s in statuses],
            },
            indent=2,
        )
    elif args.markdown:
        text = targets_to_markdown(statuses, latest)
    else:
        text = targets_to_text(statuses, latest)
    _emit(text, args.output)
    return EXIT_WORSE if args.check and any(s.status is Status.MISSED for s in statuses) else EXIT_OK


def _cmd_publish(args: argparse.Namespace) -> int:
    from veracity.tracking.publish import publish_site

    html = publish_site(_config(args), quiet=args.quiet)
    print(f"veracity: site written to {html}; browse it with `asv preview`")
    return EXIT_OK


# --- registration --------------------------------------------------------------------------------


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the tracker's subcommands to the main `veracity` parser."""
    p = subparsers.add_parser("regressions", help="open regressions of the latest commit (exit 1 if any not accepted)")
    _common(p)
    _format_flags(p)
    p.add_argument("--branch", help="branch whose history to follow (default: first in asv.conf.json)")
    p.add_argument("--window", type=int, default=5, help="commits before a regression used as baseline (default 5)")
    p.set_defaults(handler=_cmd_regressions)

    p = subparsers.add_parser("compare", help="direction- and noise-aware `asv compare` (exit 1 if worse)")
    p.add_argument("revision1", help="the reference commit")
    p.add_argument("revision2", help="the commit compared with it")
    _common(p)
    _format_flags(p)
    _rerun_arg(p)
    p.add_argument("--only-changed", action="store_true", help="list only changed benchmarks")
    p.add_argument("--quiet", "-q", action="store_true", help="hide asv's output during re-runs")
    p.add_argument(
        "--paired",
        action="store_true",
        help="both commits were measured in one asv run (as asv continuous does): judge with the paired bands",
    )
    p.set_defaults(handler=_cmd_compare)

    p = subparsers.add_parser("continuous", help="`asv continuous` that knows direction and noise (exit 1 if worse)")
    p.add_argument("base", nargs="?", default=None, help="commit to compare against (default: parent of branch)")
    p.add_argument("branch", help="commit or branch to test")
    _common(p, machine_help=RUN_MACHINE_HELP)
    _format_flags(p)
    _rerun_arg(p)
    p.add_argument("--bench", "-b", action="append", help="regex of benchmarks to run (repeatable)")
    p.add_argument("--launch-method", choices=["auto", "spawn", "forkserver"], help="passed to asv run")
    p.add_argument(
        "--interleave-rounds",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure the two commits' rounds in alternating order, as asv continuous does (default)",
    )
    p.add_argument("--show-stderr", "-e", action="store_true", help="passed to asv run")
    p.add_argument("--only-changed", action="store_true", default=True, help=argparse.SUPPRESS)
    p.add_argument("--quiet", "-q", action="store_true", help="hide asv's own output")
    p.set_defaults(handler=_cmd_continuous)

    p = subparsers.add_parser("calibrate", help="A/A runs of one commit; store each benchmark's noise band")
    _common(p, triage=False, machine_help=RUN_MACHINE_HELP)
    p.add_argument("--runs", type=int, default=5, help="A/A runs (default 5)")
    p.add_argument("--commit", default="HEAD", help="commit to run (default HEAD)")
    p.add_argument("--bench", "-b", action="append", help="regex of benchmarks to calibrate (repeatable)")
    p.add_argument("--keep-results", action="store_true", help="keep the last run's results instead of restoring")
    p.add_argument(
        "--no-paired",
        dest="paired",
        action="store_false",
        help="skip the twin commit run beside each run (no paired bands for `continuous`)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="hide asv's own output")
    p.set_defaults(handler=_cmd_calibrate)

    p = subparsers.add_parser("targets", help="the product targets: met, close or missed on the latest commit")
    _common(p, noise=False, triage=False)
    _format_flags(p)
    p.add_argument("--targets-file", help="targets (default <benchmark_dir>/targets.toml, else the seed targets)")
    p.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    p.set_defaults(handler=_cmd_targets)

    p = subparsers.add_parser("publish", help="`asv publish` swapped in whole: an interrupt keeps the old html/")
    p.add_argument("--config", default="asv.conf.json", help="asv config file (default ./asv.conf.json)")
    p.add_argument("--quiet", "-q", action="store_true", help="hide asv's own output")
    p.set_defaults(handler=_cmd_publish)


class _UsageParser(argparse.ArgumentParser):
    """Exit 2 with one line on a usage error, as the main `veracity` parser does."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"veracity: error: {message} (see `{self.prog} --help`)", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _UsageParser(prog="veracity", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_UsageParser)
    register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one tracker command; user errors become one line on stderr and exit code 2."""
    args = build_parser().parse_args(argv)
    return run_handler(args.handler, args)


if __name__ == "__main__":
    sys.exit(main())
