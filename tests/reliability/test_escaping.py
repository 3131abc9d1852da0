"""Markup in commit messages, branch and tag names, benchmark parameters and target titles renders inert.

The hostile project (conftest.py) carries `<script>`, an `onerror` image and an `onload` SVG in its
commit message, a branch, a tag, benchmark parameters and its targets file. Every page of the
published site is opened in headless Chromium, its scripts run, and the resulting DOM is checked:
had any payload run, the body would carry data-pwned="42"; had any been parsed as markup, its
element would be in the DOM. The Markdown reports must show the same text with its tags escaped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler
from pathlib import Path

import pytest
from reliability_helpers import HOSTILE_PARAMS, PAYLOAD_JS
from test_asv_suite_e2e import _render, serve_directory

from veracity.tracking.detect import Comparison, Verdict
from veracity.tracking.report import comparison_to_markdown, targets_to_markdown
from veracity.tracking.site_pages import targets_to_html
from veracity.tracking.targets import Status, Target, TargetStatus

# How each payload looks once parsed as markup and serialized back by the browser.
INJECTED = [
    "data-pwned",
    '<img src="x" onerror=',
    f'onload="{PAYLOAD_JS}"',
    f"<script>{PAYLOAD_JS}",
    "<i>payload</i>",
]
PAGES = ["", "#/", "#summarylist", "#regressions", "#hostile.Hostile.track_items", "targets.html", "regressions.html"]


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(hostile_site) -> Iterator[str]:
    with serve_directory(hostile_site.html, _QuietHandler) as url:
        yield url


@pytest.mark.asv
@pytest.mark.db
@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_the_payloads_inert_in_chromium(site_url: str, tmp_path: Path, page: str) -> None:
    dom = _render(site_url + page, tmp_path)
    assert "<body" in dom
    for injected in INJECTED:
        assert injected not in dom, f"{page or 'index'}: {injected!r} was parsed as markup"


@pytest.mark.asv
@pytest.mark.db
@pytest.mark.slow
def test_payloads_are_shown_as_text_where_they_appear(site_url: str, tmp_path: Path) -> None:
    """Escaped, not dropped: the graph page lists the parameters and targets.html the target's title."""
    graph = _render(site_url + "#hostile.Hostile.track_items", tmp_path)
    assert "&lt;img src=x onerror=" in graph
    targets = _render(site_url + "targets.html", tmp_path)
    assert "&lt;img src=x onerror=" in targets and "&lt;script&gt;" in targets


def _outside_code_spans(markdown: str) -> str:
    return re.sub(r"(?<!\\)`[^`\n]*`", "``", markdown)


@pytest.mark.asv
@pytest.mark.db
@pytest.mark.slow
def test_markdown_reports_escape_the_payloads(hostile_site) -> None:
    reports = {p.name: p.read_text() for p in hostile_site.reports.glob("*.md")}
    assert set(reports) == {"regressions.md", "targets.md", "compare.md"}
    assert "&lt;img src=x" in reports["regressions.md"] + reports["compare.md"]
    for name, text in reports.items():
        assert not re.search(r"<[a-zA-Z/!]", _outside_code_spans(text)), f"{name} holds raw markup:\n{text}"


# --- the writers alone, on every payload -----------------------------------------------------------------


def _comparison(params: tuple[tuple[str, str], ...]) -> Comparison:
    return Comparison(
        key=f"b.B.track_x({', '.join(v for _, v in params)})",
        benchmark="b.B.track_x",
        params=params,
        unit="items/s",
        higher_is_better=True,
        env_name="e",
        before=100.0,
        after=50.0,
        ratio=0.5,
        p_value=None,
        threshold=0.05,
        verdict=Verdict.WORSE,
    )


@pytest.mark.parametrize("payload", [*HOSTILE_PARAMS, "a`<b>`c", "x|<svg/onload=alert(1)>\n# heading"])
def test_writers_escape_markup_in_parameters_titles_and_units(payload: str) -> None:
    row = _comparison((("<i>name</i>", payload),))
    markdown = comparison_to_markdown([row], "a" * 40, "b" * 40)
    assert not re.search(r"<[a-zA-Z/!]", _outside_code_spans(markdown)), markdown
    target = Target(payload, "b.*", ">", 1.0, payload)
    status = TargetStatus(target, payload, 2.0, 1.0, Status.MET)
    assert not re.search(r"<[a-zA-Z/!]", _outside_code_spans(targets_to_markdown([status], "c" * 40)))
    page = targets_to_html([status], payload, payload)
    body = page.split("<body>", 1)[1]
    assert payload not in body or "<" not in payload
    assert "<img" not in body and "<script" not in body and "<b>" not in body and "<svg/" not in body
    # The page draws its status marks as inline SVG of its own: as many as with a harmless title, no more.
    benign = TargetStatus(Target("t", "b.*", ">", 1.0, "t"), "t", 2.0, 1.0, Status.MET)
    assert body.count("<svg") == targets_to_html([benign], "t", "t").split("<body>", 1)[1].count("<svg")
