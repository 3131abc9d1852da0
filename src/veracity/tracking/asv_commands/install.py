"""Installing the hooks: only on the pinned asv, every target present with the signature the hook expects."""

from __future__ import annotations

import inspect
from typing import Any

from veracity.tracking.asv_commands.compare import (
    _MARK,
    _hook_is_result_better,
    _hook_print_table,
    _hook_unroll_result,
)
from veracity.tracking.asv_commands.find import _hook_find_run

PINNED_ASV = "0.6.6"

# The parameters each hook target has in the pinned asv (classmethods without `cls`).
EXPECTED_SIGNATURES: dict[str, tuple[str, ...]] = {
    "compare._is_result_better": ("a", "b", "a_ss", "b_ss", "factor", "use_stats"),
    "compare.unroll_result": ("benchmark_name", "params", "values"),
    "compare.Compare.print_table": (
        "conf",
        "hash_1",
        "hash_2",
        "factor",
        "split",
        "resultset_1",
        "resultset_2",
        "machine",
        "only_changed",
        "sort",
        "use_stats",
        "env_names",
        "commit_names",
    ),
    "find.Find.run": (
        "conf",
        "range_spec",
        "bench",
        "invert",
        "show_stderr",
        "parallel",
        "machine",
        "env_spec",
        "_machine_file",
        "launch_method",
        "skip_save",
    ),
    "find.Benchmarks.discover": ("conf", "repo", "environments", "commit_hash", "regex", "check"),
}


# -- install --------------------------------------------------------------------------------------


def _targets() -> dict[str, Any]:
    from asv.commands import compare, find

    return {
        "compare._is_result_better": getattr(compare, "_is_result_better", None),
        "compare.unroll_result": getattr(compare, "unroll_result", None),
        "compare.Compare.print_table": getattr(getattr(compare, "Compare", None), "print_table", None),
        "find.Find.run": getattr(getattr(find, "Find", None), "run", None),
        "find.Benchmarks.discover": getattr(getattr(find, "Benchmarks", None), "discover", None),
    }


def installed() -> bool:
    """Whether the hooks are in place in this process."""
    from asv.commands import compare

    return bool(getattr(compare._is_result_better, _MARK, False))


def hook_problem() -> str | None:
    """Why the hooks do not fit the asv installed, None when they do."""
    import asv

    version = getattr(asv, "__version__", "unknown")
    if version != PINNED_ASV:
        return f"asv {version} is installed, the direction-aware hooks are for asv {PINNED_ASV}"
    for target, obj in _targets().items():
        if not callable(obj):
            return f"asv {version} has no {target}"
        try:
            names = tuple(p.name for p in inspect.signature(obj).parameters.values())
        except (TypeError, ValueError):
            return f"the signature of asv's {target} cannot be read"
        if names != EXPECTED_SIGNATURES[target]:
            return f"asv's {target}{inspect.signature(obj)} is not what the hook expects"
    return None


def install() -> bool:
    """Install the hooks once per process; on a mismatch (or any failure) install nothing, warn in one line.

    Returns whether the hooks are in place.
    """
    from asv.console import log

    try:
        if installed():
            return True
        problem = hook_problem()
        if problem is None:
            _install()
            return True
    except Exception as exc:  # a plugin must never stop asv: plain asv runs, and says so
        problem = f"the hooks failed ({type(exc).__name__}: {exc})"
    log.warning(
        f"veracity: {problem}; plain asv compare/continuous/find judge every benchmark lower-is-better "
        "(use `veracity compare`/`veracity continuous`)"
    )
    return False


def _install() -> None:
    from asv.commands import compare, find

    print_table = _hook_print_table(compare.Compare.__dict__["print_table"].__func__)
    find_run = _hook_find_run(find.Find.__dict__["run"].__func__)
    unroll = _hook_unroll_result(compare.unroll_result)
    better = _hook_is_result_better(compare._is_result_better)
    compare.Compare.print_table = print_table
    find.Find.run = find_run
    compare.unroll_result = unroll
    compare._is_result_better = better  # last: `installed()` reads it
