"""Passwords in DSNs never survive into anything printed."""

from __future__ import annotations

import pytest

from veracity.db.dsn import redact_dsn

SECRET = "s3cr3t-Pa55"


@pytest.mark.parametrize(
    "dsn",
    [
        f"postgresql://alice:{SECRET}@db.example:5432/app",
        f"postgres://alice:{SECRET}@/app?host=/tmp",
        f"host=db user=alice password={SECRET} dbname=app",
        f"host=db password='{SECRET} x' dbname=app",
        f"postgresql://alice@db/app?password={SECRET}&sslmode=require",
        f'connection to server failed: FATAL password authentication failed for "postgresql://u:{SECRET}@h/d"',
    ],
)
def test_password_is_removed(dsn: str) -> None:
    redacted = redact_dsn(dsn)
    assert SECRET not in redacted
    assert "***" in redacted


def test_dsn_without_password_is_unchanged() -> None:
    dsn = "postgresql://postgres:@/postgres?host=/tmp/pg"
    assert redact_dsn(dsn) == dsn
