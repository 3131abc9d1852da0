"""The two profiler children (one per commit) and their passes, alternated so that drift hits both alike."""

from __future__ import annotations

import contextlib
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

from veracity.errors import InputError, VeracityError
from veracity.explain.worktrees import child_env

CHILD = Path(__file__).with_name("profile_child.py")
EXIT_CANNOT = 3  # profile_child's "cannot profile as asked"
PASSES = ("wall", "python", "operators", "sql")
MIN_CALLS, MAX_CALLS = 3, 1000
DEFAULT_ROUNDS = 3
CLOSE_S = 30


def auto_calls(one_call_s: float, target_s: float) -> int:
    """Calls for a pass of about `target_s` seconds, at least MIN_CALLS and at most MAX_CALLS."""
    return max(MIN_CALLS, min(MAX_CALLS, math.ceil(target_s / max(one_call_s, 1e-6))))


class ProfileChild:
    """profile_child.py running against the code of one commit's worktree, answering one pass at a time."""

    def __init__(self, tree: Path, pattern: str, commit: str) -> None:
        self.commit = commit
        self._errors: IO[str] = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed in close())
        self._process = subprocess.Popen(
            [sys.executable, str(CHILD), str(tree), pattern],
            cwd=tree,
            env=child_env(tree),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            text=True,
        )

    def _failure(self) -> VeracityError:
        code = self._process.wait()
        self._errors.seek(0)
        last = next((line for line in reversed(self._errors.read().splitlines()) if line.strip()), "no output")
        return VeracityError(
            f"the benchmark failed at {self.commit[:8]} (exit {code}: {last.strip()}); "
            "run it there with `asv run --bench` to see why"
        )

    def read(self) -> dict:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise self._failure()
        reply = json.loads(line)
        if "error" in reply:
            raise InputError(f"at {self.commit[:8]}: {reply['error']}")
        return reply

    def ask(self, name: str, calls: int = 1) -> dict:
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps({"pass": name, "calls": calls}) + "\n")
            self._process.stdin.flush()
        except BrokenPipeError:
            raise self._failure() from None
        return self.read()

    def close(self) -> None:
        """Let the child tear its benchmark down and exit; kill it if it does not within CLOSE_S."""
        with contextlib.suppress(OSError):
            self._process.stdin.close()  # type: ignore[union-attr]
        try:
            self._process.wait(timeout=CLOSE_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._errors.close()


def _least(rounds: list[list[dict]], value: str) -> list[dict]:
    """Each key's row from the round where it cost least: load from elsewhere only ever adds time."""
    best: dict[str, dict] = {}
    for rows in rounds:
        for row in rows or []:
            if row["key"] not in best or row[value] < best[row["key"]][value]:
                best[row["key"]] = row
    return list(best.values())


def _merged(ready: dict, calls: int, replies: list[dict], onnx: list[list[dict]]) -> dict:
    """One commit's rounds as one profile: wall samples pooled, rows at their least."""
    by_pass = {name: [r for r in replies if name in r] for name in ("wall_s", "python", "operators", "sql")}
    # The stages of the round whose calls ran fastest: the least disturbed, as the rows are.
    timed = [r for r in by_pass["wall_s"] if r.get("stages")]
    fastest = min(timed, key=lambda r: sum(r["wall_s"])) if timed else None
    stages = None
    if fastest is not None:
        stages = {**fastest["stages"], "wall_s": sum(fastest["wall_s"]) / len(fastest["wall_s"])}
    operators = [r["operators"] + (onnx[i] if i < len(onnx) else []) for i, r in enumerate(by_pass["operators"])]
    sql_rounds = [r["sql"] for r in by_pass["sql"] if r["sql"]]
    return {
        "benchmark": ready["benchmark"],
        "calls": calls,
        "wall_s": [s for r in by_pass["wall_s"] for s in r["wall_s"]],
        "stages": stages,
        "python": _least([r["python"] for r in by_pass["python"]], "self_s"),
        "operators": _least(operators, "self_s"),
        "sql": _least(sql_rounds, "client_s") if sql_rounds else None,
    }


def profile_pair(
    trees: tuple[Path, Path],
    commits: tuple[str, str],
    pattern: str,
    *,
    calls: int,
    target_s: float,
    rounds: int = DEFAULT_ROUNDS,
) -> tuple[dict, dict]:
    """Profiles of the benchmark at both commits: `rounds` rounds of every pass, in A B then B A order.

    The benchmark is the one `pattern` names at the first commit; the second must have it too.
    `calls` 0 means as many as fill `target_s` at the first commit's warm call.
    """
    first = ProfileChild(trees[0], pattern, commits[0])
    second: ProfileChild | None = None
    try:
        ready_a = first.read()
        second = ProfileChild(trees[1], ready_a["benchmark"], commits[1])
        ready_b = second.read()
        calls = calls or auto_calls(ready_a["warm_s"], target_s)
        replies: tuple[list[dict], list[dict]] = ([], [])
        children = (first, second)
        for round_ in range(rounds):
            order = (0, 1) if round_ % 2 == 0 else (1, 0)
            for name in PASSES:
                for side in order:
                    replies[side].append(children[side].ask(name, calls))
        onnx = [children[side].ask("finish")["onnx"] for side in (0, 1)]
        return (
            _merged(ready_a, calls, replies[0], onnx[0]),
            _merged(ready_b, calls, replies[1], onnx[1]),
        )
    finally:
        first.close()
        if second is not None:
            second.close()
