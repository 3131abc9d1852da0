"""The published site as a product (issue 19), on a real toy history: explain pages that the regressions
page links and every publish keeps, and the regressions, explain and targets pages in headless Chromium.

The history: five settled commits, then one that halves `track_items_per_second` (open, failing CI)
and drops `track_recall` 10% (accepted in the suite's triage.toml, with a reason and an expiry). Only
the `track_*` figures are measured: their values are planted exactly, so the verdicts are exact. The
explain page is made by the real `veracity explain --html` on the toy repository.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_asv_suite_e2e import _render, serve_directory
from toy_suite import ToyRepo

from veracity.cli.main import main
from veracity.explain.pages import page_name

pytestmark = pytest.mark.asv

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
OPEN = "bench.Suite.track_items_per_second"
ACCEPTED = "bench.Suite.track_recall"
REASON = "the smaller index trades recall for memory, see #7"
EXPIRES = "2999-01-01"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Emoji and pictographs a colour-emoji font would be needed for (the old ✅ ⚠ ❌ ❔ ⛔ ⏳ marks among them).
EMOJI = re.compile("[\u2300-\u23ff\u2600-\u27bf\U0001f000-\U0001faff\ufe0f]")


@pytest.fixture(scope="module")
def toy(asv_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ToyRepo]:
    repo = ToyRepo(tmp_path_factory.mktemp("site") / "toy")
    plants = {**{f"settle{i}": {} for i in range(1, 6)}, "drop": {"throughput": 0.5, "recall": 0.9}}
    for label, plant in plants.items():
        repo.commit(label, **plant)
    for label in plants:
        repo.run_at(label, r"\.track_")
    repo.checkout_main()
    suite = repo.root / "benchmarks"
    (suite / "triage.toml").write_text(
        f'[[accepted]]\nbenchmark = "{ACCEPTED}"\ncommit = "{repo.commits["drop"][:7]}"\n'
        f'reason = "{REASON}"\nexpires = {EXPIRES}\n'
    )
    (suite / "targets.toml").write_text(
        f'[[target]]\ntitle = "toy throughput"\nbenchmark = "{OPEN}"\nop = ">"\nlimit = 600\nunit = "items/s"\n'
        f'[[target]]\ntitle = "toy recall"\nbenchmark = "{ACCEPTED}"\nop = ">"\nlimit = 0.7\nunit = "ratio"\n'
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(repo.root)
        yield repo


@pytest.fixture(scope="module")
def explained(toy: ToyRepo) -> Path:
    """The real `veracity explain --html` of the open regression: the page the site should link."""
    before, after = toy.commits["settle5"], toy.commits["drop"]
    code = main(["explain", before, after, "-b", OPEN, "--html", "--calls", "3", "--config", str(toy.config)])
    assert code == 0
    page = toy.root / "html" / "explain" / page_name(OPEN)
    assert page.is_file() and (page.parent / page_name(OPEN, (before, after))).is_file()
    return page


def _regressions_json(html: Path) -> set[str]:
    return {row[0] for row in json.loads((html / "regressions.json").read_text())["regressions"]}


@pytest.mark.slow  # six asv runs of the toy suite, one explain and four publishes: about 35 s on 2 CPUs
def test_every_publish_keeps_the_explain_page_and_links_it(toy: ToyRepo, explained: Path, capsys) -> None:
    """veracity publish (as make bench publishes) and plain asv publish, each twice: asv deletes html/ first."""
    html = toy.root / "html"
    link = f"href='explain/{explained.name}'"
    for publish in ("veracity", "asv", "veracity", "asv"):
        if publish == "veracity":
            assert main(["publish", "--config", str(toy.config), "-q"]) == 0
        else:
            toy.asv("publish")
        assert explained.is_file(), f"{publish} publish lost {explained.name}"
        page = (html / "regressions.html").read_text()
        assert page.count(">explain</a>") == 1 and link in page, f"{publish} publish: no explain link"
        assert _regressions_json(html) == {OPEN, ACCEPTED}
    capsys.readouterr()


# --- the pages in a real browser ------------------------------------------------------------------


@pytest.fixture(scope="module")
def site_url(toy: ToyRepo, explained: Path) -> Iterator[str]:
    assert main(["publish", "--config", str(toy.config), "-q"]) == 0
    with serve_directory(toy.root / "html") as url:
        yield url


def _page(url: str, tmp_path: Path, name: str) -> str:
    """The DOM of the page after its scripts ran; its screenshot into test-artifacts/, checked as a real PNG."""
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"site-{name.replace('/', '-').removesuffix('.html')}.png"
    shot.unlink(missing_ok=True)
    _render(url, tmp_path, shot)
    data = shot.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 10_000, f"{shot}: {len(data)} bytes"
    return _render(url, tmp_path)


def _row(dom: str, benchmark: str) -> str:
    rows = [row for row in re.findall(r"<tr[^>]*>.*?</tr>", dom, re.S) if f"<code>{benchmark}</code>" in row]
    assert len(rows) == 1, f"{benchmark}: {len(rows)} rows"
    return rows[0]


@pytest.mark.slow
def test_regressions_explain_and_targets_pages_in_chromium(
    toy: ToyRepo, site_url: str, explained: Path, tmp_path: Path, capsys
) -> None:
    assert main(["regressions", "--config", str(toy.config), "--json"]) == 1
    reported = {r["benchmark"] for r in json.loads(capsys.readouterr().out)["regressions"]}
    regressions = _page(site_url + "regressions.html", tmp_path, "regressions.html")
    listed = set(re.findall(r"<tr class=\"(?:open|accepted)\"><td><code>([^<]+)</code>", regressions))
    assert listed == reported == {OPEN, ACCEPTED}  # what `veracity regressions` lists, no more
    open_row, accepted_row = _row(regressions, OPEN), _row(regressions, ACCEPTED)
    assert "open, failing CI" in open_row and f'href="explain/{explained.name}">explain</a>' in open_row
    assert f"accepted until {EXPIRES}: {REASON}" in accepted_row and "failing CI" not in accepted_row
    assert "2 open regression(s), 1 failing CI, 1 accepted." in regressions

    explain = _page(site_url + f"explain/{explained.name}", tmp_path, "explain.html")
    assert f"<h1>Why {OPEN} changed</h1>" in explain and "<svg" in explain
    assert f"{toy.commits['settle5'][:8]}" in explain and f"{toy.commits['drop'][:8]}" in explain

    targets = _page(site_url + "targets.html", tmp_path, "targets.html")
    marks = {title: _row_by_title(targets, title) for title in ("toy throughput", "toy recall")}
    assert "missed" in marks["toy throughput"] and "<svg" in marks["toy throughput"]
    assert "</svg> met</span>" in marks["toy recall"]
    assert not EMOJI.search(targets) and not EMOJI.search(regressions), "an emoji needs a colour-emoji font"


def _row_by_title(dom: str, title: str) -> str:
    rows = [row for row in re.findall(r"<tr[^>]*>.*?</tr>", dom, re.S) if f"<td>{title}</td>" in row]
    assert len(rows) == 1, f"{title}: {len(rows)} rows"
    return rows[0]
