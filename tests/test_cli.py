"""`veracity` as a user runs it: answers on stdout, every user error one line on stderr and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from veracity.data import load_claims

SECRET = "hunter2-planted-secret"


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "veracity.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("veracity: error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_blank_claim_is_rejected() -> None:
    assert_one_line_error(run_cli("verify", "   "), "empty or whitespace")


def test_claim_and_file_together_are_rejected(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("verify", "x", "--file", str(tmp_path / "c.jsonl")), "not both")


def test_non_utf8_claims_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_bytes(b'{"claim": "ok"}\n{"claim": "caf\xe9"}\n')
    assert_one_line_error(run_cli("verify", "--file", str(path)), "claims.jsonl:2", "UTF-8")


def test_malformed_claims_file_writes_no_output(tmp_path: Path) -> None:
    path = tmp_path / "claims.jsonl"
    path.write_text('{"claim": "ok"}\n{"claim": oops}\n')
    out = tmp_path / "out.jsonl"
    assert_one_line_error(run_cli("verify", "--file", str(path), "--output", str(out)), "claims.jsonl:2")
    assert not out.exists()


def test_unknown_option_value_is_a_usage_error() -> None:
    assert_one_line_error(run_cli("verify", "x", "--index", "lsh"), "invalid choice")


def test_bad_environment_setting_is_reported() -> None:
    assert_one_line_error(run_cli("verify", "x", env={"VERACITY_TOP_K": "lots"}), "VERACITY_TOP_K")


def test_unwritable_cache_dir_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert_one_line_error(run_cli("verify", "x", "--cache-dir", str(blocker / "cache")), "not writable")


@pytest.mark.db
def test_unreachable_database_is_reported_without_its_password() -> None:
    url = f"postgresql://alice:{SECRET}@127.0.0.1:1/nowhere"
    result = run_cli("verify", "x", "--database-url", url)
    assert_one_line_error(result, "cannot connect", "VERACITY_DATABASE_URL")
    assert SECRET not in result.stderr + result.stdout


@pytest.mark.models
def test_unknown_model_path_is_reported(tmp_path: Path) -> None:
    result = run_cli("verify", "x", "--store", "numpy", "--embedding-model", str(tmp_path / "nope"))
    assert_one_line_error(result, "does not exist")


def test_data_check_confirms_checksums() -> None:
    result = run_cli("data", "check")
    assert result.returncode == 0 and "checksums match" in result.stdout


@pytest.mark.models
@pytest.mark.db
def test_verify_answers_a_shipped_claim_as_json(first_use, database_dsn: str) -> None:
    claim = load_claims()[1]
    result = run_cli("verify", claim.claim, env={"VERACITY_DATABASE_URL": database_dsn})
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["claim"] == claim.claim and record["verdict"] in {"supported", "refuted", "not_enough_info"}
    assert len(record["evidence"]) == 5


@pytest.mark.models
@pytest.mark.db
def test_verify_file_writes_one_line_per_claim(tmp_path: Path, first_use, database_dsn: str) -> None:
    claims = tmp_path / "claims.jsonl"
    claims.write_text("".join(json.dumps({"id": c.id, "claim": c.claim}) + "\n" for c in load_claims()[:3]))
    out = tmp_path / "verdicts.jsonl"
    result = run_cli("verify", "--file", str(claims), "--output", str(out), env={"VERACITY_DATABASE_URL": database_dsn})
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [c.id for c in load_claims()[:3]]
