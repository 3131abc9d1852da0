"""DSN helpers that never let a password reach a log, an error or a result file."""

from __future__ import annotations

import re

# Greedy up to the last "@" of the authority: a password with a raw "@" in it is hidden whole.
_URI_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@?#\s]*:)(?P<secret>[^/?#\s]*)(?=@)", re.IGNORECASE)
_KV_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|[^\s]+)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"(?P<head>[?&]password=)(?P<secret>[^&#\s]*)", re.IGNORECASE)

REDACTED = "***"


def redact_dsn(text: str) -> str:
    """Replace every password in a URI or key=value DSN (or a message quoting one) by ***."""
    text = _URI_PASSWORD.sub(lambda m: m.group("head") + (REDACTED if m.group("secret") else ""), text)
    text = _QUERY_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)
    return _KV_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)
