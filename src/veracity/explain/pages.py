"""Where explain pages live: their file names, and the copy kept outside html/ that every publish restores.

The site's regressions row links `html/explain/<page_name(key)>`, the latest explanation of that
benchmark; `html/explain/<page_name(key, (A, B))>` keeps each pair of commits explained. `asv publish`
deletes html/ before it writes the site (and `veracity publish` swaps a new folder in whole), so the
pages are also kept in `explain_store(results_dir)` (`.asv/explain/` for this project), and the asv
plugin copies them back into every site it publishes.
"""

from __future__ import annotations

import re
from pathlib import Path

from veracity.fsutil import atomic_write_text

EXPLAIN_FOLDER = "explain"


def page_name(benchmark: str, commits: tuple[str, str] | None = None) -> str:
    """The one rule for an explain page's file name under html/explain/.

    `benchmark` is asv's key (`module.Class.method(params)`, as the regressions row and `veracity
    explain` name it); without `commits` the page is that benchmark's latest explanation, with them
    the page of that pair (`<benchmark>-<A8>-<B8>.html`). Every run of characters other than letters,
    digits, dots, dashes and underscores becomes one underscore: nothing a path or a URL trips on.
    """
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", benchmark).strip("_")
    pair = f"-{commits[0][:8]}-{commits[1][:8]}" if commits else ""
    return f"{safe}{pair}.html"


def explain_store(results_dir: Path) -> Path:
    """The folder beside asv's results that keeps every explain page across publishes (`.asv/explain/`)."""
    return results_dir.parent / EXPLAIN_FOLDER


def _copy_pages(source: Path, target: Path, *, replace: bool) -> list[str]:
    """Copy every page of `source` into `target` (only the missing ones unless `replace`); the names copied."""
    if not source.is_dir():
        return []
    copied = []
    for page in sorted(source.glob("*.html")):
        destination = target / page.name
        if page.is_file() and (replace or not destination.exists()):
            atomic_write_text(destination, page.read_text(encoding="utf-8"))
            copied.append(page.name)
    return copied


def keep_pages(html_dir: Path, store: Path) -> list[str]:
    """Pages in html/explain/ that the store lacks (written without an asv config, or by hand) kept there."""
    return _copy_pages(html_dir / EXPLAIN_FOLDER, store, replace=False)


def restore_pages(store: Path, html_dir: Path) -> list[str]:
    """Every kept page copied into a freshly published `html_dir`/explain/; the names copied."""
    return _copy_pages(store, html_dir / EXPLAIN_FOLDER, replace=True)
