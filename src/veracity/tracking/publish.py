"""`asv publish` that never leaves a half-written site: it builds a fresh folder and swaps it in whole.

asv deletes html/ first and then writes it file by file, so a publish that is interrupted, or
that fails on a full disk, leaves no site or half of one. Here asv writes into a hidden folder
beside html/; only when it has finished is the old site moved aside and the new one renamed into
place, with SIGINT and SIGTERM held back between the two renames. A run killed even there is
mended by the next one (the old site is moved back if no new one took its place). Explain pages
(html/explain/) are kept outside html/ first (pages.explain_store) and copied into the new site.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from veracity.errors import AsvRunError
from veracity.explain.pages import explain_store, keep_pages, restore_pages
from veracity.fsutil import signals_deferred
from veracity.tracking.asvconf import AsvConfig
from veracity.tracking.asvrun import publish


def _staging(html_dir: Path) -> Path:
    return html_dir.with_name(f".{html_dir.name}.new-{os.getpid()}")


def _aside(html_dir: Path) -> Path:
    return html_dir.with_name(f".{html_dir.name}.old")


def recover(html_dir: Path) -> None:
    """Mend what a publish killed outright left: the old site back in place, stale staging folders gone."""
    aside = _aside(html_dir)
    with signals_deferred():
        if aside.is_dir() and not html_dir.exists():
            aside.rename(html_dir)
    shutil.rmtree(aside, ignore_errors=True)
    for stale in html_dir.parent.glob(f".{html_dir.name}.new-*"):
        shutil.rmtree(stale, ignore_errors=True)


def swap_in(staging: Path, html_dir: Path) -> None:
    """Replace `html_dir` by the complete site in `staging`, the old one removed only afterwards."""
    aside = _aside(html_dir)
    shutil.rmtree(aside, ignore_errors=True)
    with signals_deferred():
        if html_dir.exists():
            html_dir.rename(aside)
        staging.rename(html_dir)
    shutil.rmtree(aside, ignore_errors=True)


def publish_site(config: AsvConfig, *, env: Mapping[str, str] | None = None, quiet: bool = False) -> Path:
    """Run `asv publish` for `config` into a staging folder and swap it in; return the html folder.

    On failure or interrupt the previous site is left exactly as it was.
    """
    html_dir = config.html_dir
    html_dir.parent.mkdir(parents=True, exist_ok=True)
    recover(html_dir)
    keep_pages(html_dir, explain_store(config.results_dir))  # the asv plugin puts them back into the new site
    staging = _staging(html_dir)
    try:
        try:
            publish(config, staging, env=env, quiet=quiet)
        except AsvRunError as exc:
            raise AsvRunError(f"{exc}; the previous site in {html_dir} is unchanged") from None
        restore_pages(explain_store(config.results_dir), staging)  # done by the asv plugin too, if it is loaded
        swap_in(staging, html_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return html_dir
