"""No secret leaks: a DSN password, Modal tokens and other planted secrets never reach results, html/, logs or errors.

The hostile project (conftest.py) is benchmarked, published and reported on with the secrets in
the environment and the password in VERACITY_DATABASE_URL (the embedded server accepts it), then
again against unreachable and malformed DSNs that carry it. Every byte they produced is searched.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from reliability_helpers import SECRETS, assert_one_line_error

from veracity.db.dsn import redact_dsn

PASSWORD = SECRETS["db-password"]


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.mark.asv
@pytest.mark.db
@pytest.mark.slow
def test_planted_secrets_appear_in_no_result_page_report_or_log(hostile_site) -> None:
    haystacks = {**_files(hostile_site.results), **_files(hostile_site.html), **_files(hostile_site.reports)}
    for i, run in enumerate(hostile_site.runs):
        haystacks[f"run {i}: {' '.join(map(str, run.args[3:5]))}"] = (run.stdout + run.stderr).encode()
    assert len(haystacks) > 50 and any("index.json" in name for name in haystacks)
    leaks = [(name, s) for name, blob in haystacks.items() for s in SECRETS.values() if s.encode() in blob]
    assert leaks == []


@pytest.mark.asv
@pytest.mark.db
@pytest.mark.slow
def test_the_planted_dsn_really_was_used(hostile_site) -> None:
    """The secret-free output above is not for want of using it: the database benchmark ran through it."""
    bench = hostile_site.runs_of("bench")[0]
    assert bench.returncode == 0
    assert "hostile.Database.track_search_hits" in bench.stdout + bench.stderr
    assert "benchmark(s) failed" not in bench.stdout


@pytest.mark.asv
@pytest.mark.db
@pytest.mark.slow
def test_errors_about_a_dsn_holding_a_password_are_one_redacted_line(hostile_site) -> None:
    verifies = hostile_site.runs_of("verify")
    assert len(verifies) == 4
    for run in verifies:
        assert_one_line_error(run.returncode, run.stderr)
        assert PASSWORD not in run.stderr + run.stdout


@pytest.mark.asv
@pytest.mark.db
@pytest.mark.slow
def test_benchmarks_on_an_unreachable_dsn_fail_without_printing_it(hostile_site) -> None:
    dead = hostile_site.runs_of("bench")[-1]
    assert dead.returncode == 0, dead.stderr[-2000:]
    assert "hostile.Database.track_search_hits" in dead.stdout and "failed" in dead.stdout
    assert "cannot connect to postgresql://alice:***@127.0.0.1:1/nowhere" in dead.stdout + dead.stderr
    assert PASSWORD not in dead.stdout + dead.stderr


@pytest.mark.parametrize(
    "text",
    [
        f"postgresql://u:raw@{PASSWORD}@host/db",  # a raw @ in the password: all of it is hidden
        f"postgresql://u:{PASSWORD}@h1:5432,h2:5433/db?sslmode=require",
        f"postgres://u:{PASSWORD}@/db?host=/run/pg&password={PASSWORD}",
        f"host=h user=u password={PASSWORD} dbname=d",
        f"host=h user=u password='{PASSWORD} with space' dbname=d",
        f"PASSWORD = {PASSWORD}",
        f'error: could not connect "postgresql://u:{PASSWORD}@h/d"; check it',
    ],
)
def test_redaction_hides_every_password_form(text: str) -> None:
    assert PASSWORD not in redact_dsn(text)
