"""The site's regressions and targets pages (issue 19): what `veracity regressions` lists, accepted rows as
accepted, explain links where a page exists, and status marks that need no colour-emoji font."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from veracity.explain.pages import page_name
from veracity.tracking.asv_plugin import _explain_links
from veracity.tracking.detect import Verdict
from veracity.tracking.history import Regression
from veracity.tracking.site_pages import regressions_to_html, targets_to_html
from veracity.tracking.targets import SEED_TARGETS, Status, TargetStatus
from veracity.tracking.triage import Acceptance

A, B = "a" * 40, "b" * 40
EMOJI = "✅⚠❌❔⛔⏳"


def _regression(key: str, verdict: Verdict = Verdict.WORSE, accepted: Acceptance | None = None) -> Regression:
    return Regression(
        key=key,
        benchmark=key.split("(")[0],
        params=(),
        unit="seconds",
        higher_is_better=False,
        env_name="env",
        before=1.0,
        after=1.5,
        ratio=1.5,
        p_value=None,
        threshold=0.03,
        verdict=verdict,
        machine="box",
        good_commit=A,
        first_bad_commit=B,
        latest_commit=B,
        accepted=accepted,
        noise_source="band from the history of 7 commits on this machine",
    )


def test_an_accepted_row_shows_as_accepted_with_its_reason_and_expiry() -> None:
    entry = Acceptance("x.Slow.time_a", "bbbbbbb", "a second copy of the weights, see #9", dt.date(2999, 1, 1))
    rows = [_regression("x.Slow.time_a", accepted=entry), _regression("x.Slow.time_b")]
    page = regressions_to_html([("box", rows)], {}, "p")
    accepted_row = next(line for line in page.splitlines() if "x.Slow.time_a" in line)
    open_row = next(line for line in page.splitlines() if "x.Slow.time_b" in line)
    assert "accepted until 2999-01-01: a second copy of the weights, see #9" in accepted_row
    assert "failing CI" not in accepted_row and "open, failing CI" in open_row
    assert "band from the history of 7 commits on this machine" in open_row
    assert "2 open regression(s), 1 failing CI, 1 accepted." in page


def test_a_row_links_to_its_explain_page_only_when_one_exists(tmp_path: Path) -> None:
    rows = [_regression("x.Slow.time_a('big')"), _regression("x.Slow.time_b")]
    (tmp_path / "html" / "explain").mkdir(parents=True)
    (tmp_path / "html" / "explain" / page_name("x.Slow.time_a('big')")).write_text("<html></html>")
    (tmp_path / "html" / "explain" / page_name("x.Slow.time_b", (A, B))).write_text("<html></html>")  # a pair page
    links = _explain_links(tmp_path / "html", rows)
    assert links == {"x.Slow.time_a('big')": "explain/x.Slow.time_a_big.html"}
    page = regressions_to_html([("box", rows)], links, "p")
    assert page.count(">explain</a>") == 1 and "href='explain/x.Slow.time_a_big.html'" in page


def test_not_enough_history_and_broken_rows_are_counted_not_listed_as_regressions() -> None:
    rows = [
        _regression("x.Slow.time_a", Verdict.NOT_ENOUGH_HISTORY),
        _regression("x.Slow.time_b", Verdict.BROKEN),
    ]
    page = regressions_to_html([("box", rows)], {}, "p")
    assert "x.Slow.time_a" not in page and "x.Slow.time_b" not in page
    assert "0 open regression(s)" in page and "not enough history yet: 1 benchmark(s)" in page
    assert "1 benchmark(s) broken on every commit measured" in page


def test_status_marks_need_no_emoji_font() -> None:
    statuses = [TargetStatus(SEED_TARGETS[0], "k", 1.0, m, s) for m, s in ((0.5, Status.MET), (-0.2, Status.MISSED))]
    for page in (targets_to_html(statuses, A, "p"), regressions_to_html([("box", [_regression("x.a")])], {}, "p")):
        assert "<svg" in page and not any(e in page for e in EMOJI)
    assert "</svg> met</span>" in targets_to_html(statuses, A, "p")
