"""Two profiles of one benchmark body (before, after) turned into where the time moved, largest first."""

from __future__ import annotations

from dataclasses import dataclass

# A change under this share of the call's time before is within what one profile a side can tell apart.
NOISE_SHARE = 0.05
# A stage is named in the attribution when it carries this share of the call's change and moved this much itself.
STAGE_SHARE_OF_CHANGE = 0.2
STAGE_OWN_CHANGE = 0.05
PIPELINE_STAGES = ("embed", "retrieve", "nli")


@dataclass(frozen=True)
class Row:
    """One frame, operator or statement: seconds per call of the body before and after."""

    key: str
    before: float
    after: float
    detail: str = ""  # a frame's main caller, an operator's calls, a statement's plan

    @property
    def delta(self) -> float:
        return self.after - self.before

    @property
    def status(self) -> str:
        return "new" if self.before == 0 and self.after > 0 else "gone" if self.after == 0 and self.before > 0 else ""


@dataclass(frozen=True)
class Stage:
    """One pipeline stage's seconds per call of the body, and its share of the call, before and after."""

    name: str
    before: float
    after: float
    share_before: float
    share_after: float

    @property
    def change(self) -> float:
        return self.after / self.before - 1 if self.before > 0 else 0.0


@dataclass(frozen=True)
class Explanation:
    """Where one benchmark's body spends time at two commits, and what changed most."""

    benchmark: str
    before_commit: str
    after_commit: str
    calls: int
    before_s: float  # the fastest call, plain clock: load from elsewhere only ever adds time
    after_s: float
    python: tuple[Row, ...]
    operators: tuple[Row, ...]
    statements: tuple[Row, ...]
    stages: tuple[Stage, ...] | None

    @property
    def change(self) -> float:
        return self.after_s / self.before_s - 1 if self.before_s > 0 else 0.0

    @property
    def noise_s(self) -> float:
        """Row changes below this are not told apart from run-to-run noise."""
        return NOISE_SHARE * self.before_s

    def stage_attribution(self) -> str:
        """'nli +19%, the rest unchanged': the stages that carry the change, or '' for no pipeline."""
        if not self.stages:
            return ""
        total = sum(s.after - s.before for s in self.stages)  # the stages sum to the mean call
        named = [
            s
            for s in self.stages
            if abs(s.change) >= STAGE_OWN_CHANGE
            and abs(total) > 0
            and (s.after - s.before) / total >= STAGE_SHARE_OF_CHANGE
        ]
        if not named:
            return "no stage changed by 5% or more"
        parts = ", ".join(f"{s.name} {s.change:+.0%}" for s in sorted(named, key=lambda s: -abs(s.after - s.before)))
        return parts + (", the rest unchanged" if len(named) < len(self.stages) else "")


def _per_call(rows: list[dict] | None, calls: int, value: str) -> dict[str, tuple[float, dict]]:
    return {row["key"]: (row[value] / calls, row) for row in rows or []}


def _diff(before: dict[str, tuple[float, dict]], after: dict[str, tuple[float, dict]], detail) -> tuple[Row, ...]:
    rows = []
    for key in before.keys() | after.keys():
        old, old_raw = before.get(key, (0.0, None))
        new, new_raw = after.get(key, (0.0, None))
        rows.append(Row(key, old, new, detail(old_raw, new_raw)))
    return tuple(sorted(rows, key=lambda r: (-abs(r.delta), r.key)))


def _caller(old: dict | None, new: dict | None) -> str:
    return (new or old or {}).get("caller", "")


def _op_calls(calls_a: int, calls_b: int):
    def detail(old: dict | None, new: dict | None) -> str:
        a = old["count"] / calls_a if old else 0
        b = new["count"] / calls_b if new else 0
        return f"{a:g} -> {b:g} calls" if a != b else f"{b:g} calls"

    return detail


def _plan_figures(row: dict | None) -> dict | None:
    plan = (row or {}).get("plan")
    return plan if plan and "error" not in plan else None


def _plan(old: dict | None, new: dict | None) -> str:
    """The server's side of a statement: its plan, then time, buffers and rows before -> after."""
    a, b = _plan_figures(old), _plan_figures(new)
    failed = ((new or old or {}).get("plan") or {}).get("error")
    if failed:
        return f"EXPLAIN failed: {failed}"
    if a is None and b is None:
        return "not explained (not a read-only statement)"

    def pair(field: str, form: str) -> str:
        values = [format(p[field], form) if p else "-" for p in (a, b)]
        return values[1] if values[0] == values[1] else f"{values[0]} -> {values[1]}"

    nodes = " > ".join((b or a or {})["nodes"])
    return (
        f"{nodes}; server {pair('execution_ms', '.3f')} ms; buffers hit {pair('shared_hit', 'd')} "
        f"read {pair('shared_read', 'd')}; rows {pair('rows', 'd')}"
    )


def _statements(profile: dict) -> dict[str, tuple[float, dict]]:
    """Client seconds per call of the body for each statement (the SQL pass runs one call)."""
    return {row["key"]: (row["client_s"], row) for row in profile.get("sql") or []}


def _stages(before: dict, after: dict) -> tuple[Stage, ...] | None:
    """Each stage's seconds per call in the fastest round of each commit; 'aggregate' is the rest of the call."""
    if not before.get("stages") or not after.get("stages"):
        return None
    walls = (before["stages"]["wall_s"], after["stages"]["wall_s"])
    out = []
    for name in (*PIPELINE_STAGES, "aggregate"):
        seconds = []
        for profile, wall in zip((before, after), walls, strict=True):
            by_stage = {k: v / profile["calls"] for k, v in profile["stages"]["seconds"].items()}
            seconds.append(by_stage.get(name, 0.0) if name != "aggregate" else max(0.0, wall - sum(by_stage.values())))
        out.append(Stage(name, seconds[0], seconds[1], seconds[0] / walls[0], seconds[1] / walls[1]))
    return tuple(out)


def explain_profiles(before: dict, after: dict, before_commit: str, after_commit: str) -> Explanation:
    """The diff of two profile_child results of the same benchmark, normalised per call of the body."""
    calls_a, calls_b = before["calls"], after["calls"]
    return Explanation(
        benchmark=before["benchmark"],
        before_commit=before_commit,
        after_commit=after_commit,
        calls=calls_a,
        before_s=min(before["wall_s"]),
        after_s=min(after["wall_s"]),
        python=_diff(
            _per_call(before["python"], calls_a, "self_s"), _per_call(after["python"], calls_b, "self_s"), _caller
        ),
        operators=_diff(
            _per_call(before["operators"], calls_a, "self_s"),
            _per_call(after["operators"], calls_b, "self_s"),
            _op_calls(calls_a, calls_b),
        ),
        statements=_diff(_statements(before), _statements(after), _plan),
        stages=_stages(before, after),
    )
