"""Profile one asv benchmark's body in the interpreter of one commit; run as a script, writes JSON.

Started by `veracity explain` with PYTHONPATH=<worktree>/src:<worktree>, so `veracity` and
`benchmarks` are that commit's code. That is why this file imports nothing from `veracity`: run as
a script by path, it is today's profiler around the commit's code.

The body is profiled the same way at every commit: `setup` (not profiled), one warm call, then
passes of `calls` calls as the parent asks (one JSON line on stdin each, one JSON line back on
stdout): a plain clock (with the pipeline's stage costs recorded), cProfile, torch.profiler and
ONNX Runtime's profiler, and, when the body talks to PostgreSQL, one call whose statements are
recorded and each SELECT explained with EXPLAIN (ANALYZE, BUFFERS) on the benchmark's own
connection, with the session settings the benchmark made.

Exit codes: 0 done; 3 the benchmark cannot be profiled as asked (the reply says why, one line);
anything else is a crash, with its traceback on stderr.
"""

from __future__ import annotations

import cProfile
import importlib
import inspect
import itertools
import json
import os
import pkgutil
import pstats
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

EXIT_CANNOT = 3
PREFIXES = ("time_", "track_", "peakmem_", "mem_")


class CannotProfile(Exception):
    """The pattern, the benchmark or this machine rules the profile out; the message says why."""


# --- finding the benchmark -------------------------------------------------------------------


def _params_of(cls: type, method: Callable) -> tuple[list[list[Any]], bool]:
    """asv's parameter grid of a benchmark (a method's own `params` win over its class's)."""
    params = getattr(method, "params", None)
    if params is None:
        params = getattr(cls, "params", None)
    if params is None or params == []:
        return [], False
    if not isinstance(params, list) or not params or not isinstance(params[0], list):
        params = [params]
    return [list(p) for p in params], True


def discover(bench_dir: Path) -> dict[str, tuple[type, str, tuple]]:
    """Every benchmark combination of the suite by asv key: `module.Class.method(params)` -> parts."""
    found: dict[str, tuple[type, str, tuple]] = {}
    for info in pkgutil.iter_modules([str(bench_dir)]):
        try:
            module = importlib.import_module(f"{bench_dir.name}.{info.name}")
        except Exception as exc:  # a module that fails to import at this commit: asv would skip it too
            print(f"explain: skipped {info.name}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
            continue
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__ or cls_name.startswith("_"):
                continue
            for method_name, method in inspect.getmembers(cls, callable):
                if not method_name.startswith(PREFIXES):
                    continue
                name = f"{info.name}.{cls_name}.{method_name}"
                grid, parameterized = _params_of(cls, method)
                if not parameterized:
                    found[name] = (cls, method_name, ())
                    continue
                for combo in itertools.product(*grid):
                    found[f"{name}({', '.join(repr(p) for p in combo)})"] = (cls, method_name, combo)
    return found


def select(found: dict[str, tuple[type, str, tuple]], pattern: str) -> str:
    """The one key `pattern` names: literally (a substring) or as asv's regular expression."""
    try:
        regex = re.compile(pattern)
    except re.error:
        regex = None
    hits = sorted(k for k in found if pattern in k or (regex is not None and regex.search(k)))
    if pattern in hits:
        return pattern
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise CannotProfile(f"-b {pattern!r} matches no benchmark of this commit; `asv check` lists them")
    shown = ", ".join(hits[:4]) + (f" and {len(hits) - 4} more" if len(hits) > 4 else "")
    raise CannotProfile(f"-b {pattern!r} matches {len(hits)} benchmarks ({shown}); name exactly one")


# --- the passes ------------------------------------------------------------------------------


def _relative(filename: str, roots: list[str]) -> str:
    """A frame's file without the worktree, site-packages or stdlib prefix, so commits line up."""
    for root in roots:
        if root and filename.startswith(root):
            return filename[len(root) :].lstrip("/")
    return filename


def _frame_key(func: tuple[str, int, str], roots: list[str]) -> str:
    filename, _, name = func
    if filename == "~":  # a builtin: cProfile writes its name only
        return name
    return f"{_relative(filename, roots)}:{name}"


def python_pass(body: Callable[[], Any], calls: int, roots: list[str]) -> list[dict]:
    """Self and cumulative seconds of every Python frame over `calls` calls, with its main caller."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        body()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    merged: dict[str, dict] = {}
    for func, (_, ncalls, self_s, cum_s, callers) in stats.items():
        key = _frame_key(func, roots)
        row = merged.setdefault(key, {"key": key, "self_s": 0.0, "cum_s": 0.0, "ncalls": 0, "callers": {}})
        row["self_s"] += self_s
        row["cum_s"] += cum_s
        row["ncalls"] += ncalls
        for caller, caller_stats in callers.items():
            name = _frame_key(caller, roots)
            row["callers"][name] = row["callers"].get(name, 0.0) + caller_stats[3]
    rows = []
    for row in merged.values():
        callers = row.pop("callers")
        row["caller"] = max(callers, key=callers.get) if callers else ""
        rows.append(row)
    return rows


def torch_pass(body: Callable[[], Any], calls: int) -> list[dict] | None:
    """Self and total CPU seconds of every torch operator over `calls` calls (None without torch).

    ONNX Runtime's forward passes are not torch operators: child_ort measures those."""
    if "torch" not in sys.modules:
        return None
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(calls):
            body()
    return [
        {
            "key": event.key,
            "self_s": event.self_cpu_time_total / 1e6,
            "total_s": event.cpu_time_total / 1e6,
            "count": int(event.count),
        }
        for event in prof.key_averages()
    ]


class StageRecorder:
    """Sums the stage costs of every Verdict the pipeline's Verifier yields while installed."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.verdicts = 0
        self._restore: Callable[[], None] | None = None

    def install(self) -> bool:
        verify = sys.modules.get("veracity.pipeline.verify")
        verifier = getattr(verify, "Verifier", None)
        original = getattr(verifier, "verify_many", None)
        if original is None:
            return False
        recorder = self

        def verify_many(self, claims):  # type: ignore[no-untyped-def]
            for verdict in original(self, claims):
                recorder.verdicts += 1
                for stage in getattr(verdict, "stages", ()):
                    recorder.seconds[stage.stage] = recorder.seconds.get(stage.stage, 0.0) + stage.seconds
                yield verdict

        verifier.verify_many = verify_many

        def restore() -> None:
            verifier.verify_many = original

        self._restore = restore
        return True

    def remove(self) -> None:
        if self._restore is not None:
            self._restore()


def wall_pass(body: Callable[[], Any], calls: int) -> tuple[list[float], dict | None]:
    """Seconds of each call on a plain clock, and the pipeline's stage seconds if the body verified claims."""
    recorder = StageRecorder()
    installed = recorder.install()
    samples = []
    try:
        for _ in range(calls):
            start = time.perf_counter()
            body()
            samples.append(time.perf_counter() - start)
    finally:
        recorder.remove()
    stages = {"seconds": recorder.seconds, "verdicts": recorder.verdicts} if installed and recorder.verdicts else None
    return samples, stages


# --- the whole profile -----------------------------------------------------------------------


def prepared(root: Path, pattern: str) -> tuple[str, Callable[[], Any], Callable[[], None]]:
    """The benchmark `pattern` names, set up: its key, its body, and its teardown."""
    found = discover(root / "benchmarks")
    key = select(found, pattern)
    cls, method_name, combo = found[key]
    instance = cls()
    setup = getattr(instance, "setup", None)
    try:
        if setup is not None:
            setup(*combo)
    except NotImplementedError as exc:
        raise CannotProfile(f"{key} is skipped on this machine ({exc or 'setup raised NotImplementedError'})") from None
    method = getattr(instance, method_name)
    teardown = getattr(instance, "teardown", None)
    return key, lambda: method(*combo), (lambda: teardown(*combo)) if teardown is not None else (lambda: None)


def serve(root: Path, pattern: str, replies: TextIO) -> None:
    """Set the benchmark up, warm it, then run the passes the parent asks for, one JSON line each.

    The parent alternates the passes of two commits (this one and the other's child), so that a
    machine that slows down for a while slows both alike.
    """
    from child_ort import OrtRecorder
    from child_sql import sql_pass

    onnx = OrtRecorder()
    onnx.install()  # before the benchmarks load their models
    key, body, teardown = prepared(root, pattern)
    roots = sorted({str(root) + "/", *(p.rstrip("/") + "/" for p in sys.path if p)}, key=len, reverse=True)
    windows: list[tuple[list[int], list[int]]] = []

    def reply(value: dict) -> None:
        replies.write(json.dumps(value) + "\n")
        replies.flush()

    try:
        start = time.perf_counter()
        body()  # warm: first-call costs (prepared statements, allocator pools) stay out of every pass
        reply({"benchmark": key, "warm_s": time.perf_counter() - start})
        for line in sys.stdin:
            ask = json.loads(line)
            calls = ask.get("calls", 1)
            if ask["pass"] == "wall":
                wall, stages = wall_pass(body, calls)
                reply({"wall_s": wall, "stages": stages})
            elif ask["pass"] == "python":
                reply({"python": python_pass(body, calls, roots)})
            elif ask["pass"] == "operators":
                begin = onnx.mark()
                torch_ops = torch_pass(body, calls)
                windows.append((begin, onnx.mark()))
                reply({"operators": torch_ops or []})
            elif ask["pass"] == "sql":
                reply({"sql": sql_pass(body)})
            else:  # "finish": ONNX Runtime's figures can only be read once, at the end
                reply({"onnx": onnx.windows(windows)})
                break
    finally:
        teardown()


def main(argv: list[str]) -> int:
    root, pattern = Path(argv[0]), argv[1]
    # This script's folder last: its sibling child_*.py stay importable without shadowing the commit's modules.
    sys.path.append(sys.path.pop(0))
    # The replies go to the real stdout; anything the benchmark prints goes to stderr instead.
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        serve(root, pattern, replies)
    except CannotProfile as exc:
        replies.write(json.dumps({"error": str(exc)}) + "\n")
        replies.flush()
        return EXIT_CANNOT
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
