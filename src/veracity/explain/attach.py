"""Explanations attached to a list of regressions, within a time budget.

`veracity regressions --explain` (and the pull-request comment) call this: each regression gets the
top lines of `veracity explain` between its last good and first bad commit, largest regressions
first, until the budget is spent. An explanation is never cut short once started (a half profile
says nothing); one that would start after the budget is listed as not explained, with the reason.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from veracity.errors import VeracityError
from veracity.explain.explainer import explain_summary

DEFAULT_BUDGET_S = 300.0


@dataclass(frozen=True)
class Suspect:
    """One regression to explain: its benchmark key and the commits on either side of its step."""

    key: str
    good_commit: str | None
    bad_commit: str


@dataclass
class Attached:
    lines: dict[str, list[str]] = field(default_factory=dict)  # key -> explanation's top lines
    not_explained: dict[str, str] = field(default_factory=dict)  # key -> why not
    seconds: float = 0.0
    budget_s: float = DEFAULT_BUDGET_S


Summarize = Callable[[Path, str, str, str], list[str]]


def _summary(where: Path, before: str, after: str, key: str) -> list[str]:
    return explain_summary(where, before, after, key)


def attach_explanations(
    where: Path,
    suspects: Sequence[Suspect],
    *,
    budget_s: float = DEFAULT_BUDGET_S,
    summarize: Summarize = _summary,
    log: Callable[[str], None] = lambda _: None,
) -> Attached:
    """Explain `suspects` in order until `budget_s` seconds are spent."""
    attached = Attached(budget_s=budget_s)
    started = time.monotonic()
    for suspect in suspects:
        spent = time.monotonic() - started
        if suspect.good_commit is None:
            attached.not_explained[suspect.key] = "no earlier commit measured to compare with"
            continue
        if spent >= budget_s:
            attached.not_explained[suspect.key] = f"time budget of {budget_s:.0f} s spent"
            continue
        log(f"veracity: explaining {suspect.key} ({suspect.good_commit[:8]}..{suspect.bad_commit[:8]})")
        try:
            attached.lines[suspect.key] = summarize(where, suspect.good_commit, suspect.bad_commit, suspect.key)
        except VeracityError as error:
            attached.not_explained[suspect.key] = str(error).splitlines()[0]
    attached.seconds = time.monotonic() - started
    return attached


def explanations_text(attached: Attached) -> str:
    lines = [f"Explanations (veracity explain, {attached.seconds:.0f} s of a {attached.budget_s:.0f} s budget):"]
    for key, found in attached.lines.items():
        lines.append(f"  {key}")
        lines += [f"    {line}" for line in found]
    lines += [f"  {key}: not explained: {why}" for key, why in attached.not_explained.items()]
    return "\n".join(lines)


def explanations_markdown(attached: Attached) -> str:
    lines = [
        f"#### Why (veracity explain, {attached.seconds:.0f} s of a {attached.budget_s:.0f} s budget)",
        "",
    ]
    for key, found in attached.lines.items():
        lines.append(f"- `{key}`")
        lines += [f"  - {line}" for line in found]
    lines += [f"- `{key}`: not explained: {why}" for key, why in attached.not_explained.items()]
    return "\n".join(lines)


def explanations_json(attached: Attached) -> dict:
    return {
        "budget_s": attached.budget_s,
        "seconds": round(attached.seconds, 1),
        "explained": attached.lines,
        "not_explained": attached.not_explained,
    }


def with_explanations(repo: Path, text: str, suspects: Sequence[Suspect], fmt: str, budget_s: float) -> str:
    """A rendered report (text, markdown or json) with each suspect's explanation attached, within the
    budget: JSON gains an `explanations` object; text and markdown a section, none when nothing is suspect."""
    attached = attach_explanations(
        repo, suspects, budget_s=budget_s, log=lambda m: print(m, file=sys.stderr, flush=True)
    )
    if fmt == "json":
        payload = json.loads(text)
        payload["explanations"] = explanations_json(attached)
        return json.dumps(payload, indent=2)
    if not suspects:
        return text
    section = explanations_markdown(attached) if fmt == "markdown" else explanations_text(attached)
    return text.rstrip("\n") + "\n\n" + section
